package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// ErrSpoolFull is returned, wrapped, by Append when the database does not
// take a record and the spool has no room for it either.
var ErrSpoolFull = errors.New("audit spool is full")

// spool is the local file that keeps records the database did not take,
// in chain order, until they are replayed. Its lines are the records' lines
// exactly as the database stores them, so the file is also a segment of an
// audit log that jq or phigate audit verify can read.
//
// Only the store's writer goroutine uses a spool, so it has no lock of its
// own; an exclusive flock keeps other processes out of the file.
type spool struct {
	f    *os.File
	path string
	size int64
	max  int64
}

// openSpool opens or creates the spool at path and returns its complete
// lines. A final line without its newline is the remains of a write that
// never returned to its caller (the record was never acknowledged), so it
// is cut off and the cut is logged.
func openSpool(path string, max int64, logger *slog.Logger) (*spool, [][]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating audit spool directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening audit spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("locking audit spool %s: another process is using it: %w", path, err)
	}

	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("reading audit spool: %w", err)
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	if end < len(data) {
		logger.Warn("truncating incomplete final record of the audit spool", "path", path, "bytes", len(data)-end)
		if err := f.Truncate(int64(end)); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncating audit spool: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("syncing audit spool: %w", err)
		}
	}

	var lines [][]byte
	if end > 0 {
		lines = bytes.Split(data[:end-1], []byte{'\n'})
	}
	return &spool{f: f, path: path, size: int64(end), max: max}, lines, nil
}

// empty reports whether every spooled line has been replayed.
func (s *spool) empty() bool { return s.size == 0 }

// append writes lines at the end of the spool and syncs it. On failure the
// spool is cut back to its previous size, so it never holds part of a
// batch whose callers were told it failed. It returns ErrSpoolFull, wrapped,
// when the lines do not fit in max bytes.
func (s *spool) append(lines [][]byte) error {
	var buf bytes.Buffer
	for _, line := range lines {
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if s.size+int64(buf.Len()) > s.max {
		return fmt.Errorf("%w: %d bytes spooled, %d more do not fit in spool_max_bytes %d", ErrSpoolFull, s.size, buf.Len(), s.max)
	}

	_, err := s.f.WriteAt(buf.Bytes(), s.size)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		if cutErr := s.cut(s.size); cutErr != nil {
			return fmt.Errorf("writing audit spool: %w; cutting off the partial write also failed: %w", err, cutErr)
		}
		return fmt.Errorf("writing audit spool: %w", err)
	}
	s.size += int64(buf.Len())
	return nil
}

// read returns up to n lines starting at byte offset, and the offset after
// the last one returned.
func (s *spool) read(offset int64, n int) ([][]byte, int64, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, offset, s.size-offset), 256<<10)
	var lines [][]byte
	for len(lines) < n && offset < s.size {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, offset, fmt.Errorf("reading audit spool at byte %d: %w", offset, err)
		}
		offset += int64(len(line))
		lines = append(lines, line[:len(line)-1])
	}
	return lines, offset, nil
}

// reset empties the spool once every line is in the database.
func (s *spool) reset() error {
	if err := s.cut(0); err != nil {
		return fmt.Errorf("emptying audit spool: %w", err)
	}
	s.size = 0
	return nil
}

func (s *spool) cut(size int64) error {
	if err := s.f.Truncate(size); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *spool) close() error { return s.f.Close() }
