// Package pgtest starts throwaway PostgreSQL servers for tests.
//
// A Server is a new cluster made by initdb in a temporary directory, run by
// the postgres binary of the newest installed version (Debian's
// postgresql package installs them under /usr/lib/postgresql/VERSION/bin).
// It listens on 127.0.0.1 on a free port and on a unix socket inside its
// directory, trusts every local connection, and is removed by Close.
//
// PostgreSQL refuses to run as root. When the test runs as root, initdb and
// the server run as the "postgres" user (which the Debian package creates)
// or, without it, as "nobody", and the directory is given to that user.
//
// The server is a direct child process with a parent-death signal, so it
// stops when the test binary exits, even when it is killed.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned by Start when no PostgreSQL server binaries
// are found.
var ErrNotInstalled = errors.New("PostgreSQL is not installed: no initdb and postgres binaries in /usr/lib/postgresql/*/bin, $PATH or $PHIGATE_PG_BIN (on Debian: apt-get install postgresql)")

// Superuser is the name of the cluster's superuser role.
const Superuser = "postgres"

// startTimeout bounds how long Start waits for the server to accept
// connections.
const startTimeout = 60 * time.Second

// Options configures a Server.
type Options struct {
	// Fsync keeps PostgreSQL's fsync and synchronous commit on. Tests of
	// behaviour leave it off for speed; benchmarks of durable writes need
	// it on.
	Fsync bool
}

// Server is a running throwaway cluster.
type Server struct {
	dir     string
	binDir  string
	port    int
	cred    *syscall.Credential
	options Options

	mu      sync.Mutex
	process *os.Process
	exited  chan struct{}
}

// Start creates a cluster and starts its server. It returns an error
// wrapping ErrNotInstalled when PostgreSQL is not installed.
func Start(opts Options) (*Server, error) {
	binDir, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "phigate-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("creating PostgreSQL directory: %w", err)
	}
	s := &Server{dir: dir, binDir: binDir, cred: cred, options: opts}

	if err := s.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.port, err = freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.Resume(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// findBinaries returns the directory holding initdb and postgres:
// $PHIGATE_PG_BIN, else the newest /usr/lib/postgresql/*/bin, else the
// directory initdb in $PATH resolves to.
func findBinaries() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PHIGATE_PG_BIN"); dir != "" {
		if !has(dir) {
			return "", fmt.Errorf("PHIGATE_PG_BIN=%s contains no initdb and postgres binaries: %w", dir, ErrNotInstalled)
		}
		return dir, nil
	}

	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}

	if path, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(path); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	return "", ErrNotInstalled
}

// serverCredential returns the user to run PostgreSQL as: nil (the current
// user) unless running as root.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root, but no postgres or nobody user exists to run PostgreSQL as (PostgreSQL cannot run as root): create a postgres user")
}

func (s *Server) dataDir() string   { return filepath.Join(s.dir, "data") }
func (s *Server) socketDir() string { return filepath.Join(s.dir, "socket") }
func (s *Server) logPath() string   { return filepath.Join(s.dir, "postgres.log") }

// command returns a command running a PostgreSQL binary as the server
// user, with its output appended to the server log.
func (s *Server) command(name string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	logFile, err := os.OpenFile(s.logPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd, nil
}

func (s *Server) initdb() error {
	for _, dir := range []string{s.dataDir(), s.socketDir()} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("creating PostgreSQL directory: %w", err)
		}
	}
	if s.cred != nil {
		for _, dir := range []string{s.dir, s.dataDir(), s.socketDir()} {
			if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fmt.Errorf("giving %s to the PostgreSQL user: %w", dir, err)
			}
		}
	}

	cmd, err := s.command("initdb", "--pgdata", s.dataDir(), "--username", Superuser,
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	if err != nil {
		return err
	}
	defer closeOutput(cmd)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb failed: %w; its output is in %s", err, s.logPath())
	}
	return nil
}

func closeOutput(cmd *exec.Cmd) {
	if f, ok := cmd.Stdout.(*os.File); ok {
		f.Close()
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Resume starts the server again after Stop or Kill, on the same port and
// data. Start calls it the first time.
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.process != nil {
		return errors.New("PostgreSQL server is already running")
	}

	args := []string{"-D", s.dataDir(), "-p", strconv.Itoa(s.port), "-k", s.socketDir(),
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "log_min_messages=warning"}
	if !s.options.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd, err := s.command("postgres", args...)
	if err != nil {
		return err
	}

	// The parent-death signal fires when the thread that started the
	// child exits, so that thread stays locked to a goroutine that lives
	// as long as the server.
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(exited)
		defer closeOutput(cmd)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.process, s.exited = cmd.Process, exited

	deadline := time.Now().Add(startTimeout)
	for {
		err := s.ping()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.process = nil
			return fmt.Errorf("postgres exited at start; its log is %s", s.logPath())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %s: %w; its log is %s", startTimeout, err, s.logPath())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN(Superuser, "postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop shuts the server down the way pg_ctl stop -m fast does: it ends
// every session, rolling back open transactions, and waits for the server
// to exit.
func (s *Server) Stop() error { return s.signal(syscall.SIGINT) }

// Kill stops the server the way a crash would: an immediate shutdown
// without a checkpoint, recovered from WAL at the next Resume.
func (s *Server) Kill() error { return s.signal(syscall.SIGQUIT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.process == nil {
		return nil
	}
	if err := s.process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling postgres: %w", err)
	}
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		_ = s.process.Kill()
		<-s.exited
	}
	s.process = nil
	return nil
}

// Close stops the server and removes its directory. It stops the server
// as Kill does, because a clean shutdown would first write every dirty page
// of data that is about to be removed.
func (s *Server) Close() error {
	err := s.Kill()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// Port returns the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// LogPath returns the server's log file, for test failure messages.
func (s *Server) LogPath() string { return s.logPath() }

// DSN returns a connection string for role user on database db over TCP.
func (s *Server) DSN(user, db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable connect_timeout=5", s.port, user, db)
}

// SocketDSN returns a connection string for role user on database db over
// the server's unix socket.
func (s *Server) SocketDSN(user, db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.socketDir(), s.port, user, db)
}

// Exec runs SQL statements as the superuser on database db.
func (s *Server) Exec(ctx context.Context, db string, statements ...string) error {
	conn, err := pgx.Connect(ctx, s.DSN(Superuser, db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, stmt := range statements {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", firstWords(stmt), err)
		}
	}
	return nil
}

func firstWords(stmt string) string {
	fields := strings.Fields(stmt)
	return strings.Join(fields[:min(len(fields), 4)], " ")
}
