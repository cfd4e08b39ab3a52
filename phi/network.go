package phi

import (
	"net/netip"
	"strings"
)

// URLDetector finds web addresses that start with "http://", "https://" or
// "www.". A URL runs to the next whitespace or quote; punctuation that ends
// the sentence around it (".", ",", an unmatched ")") is left out.
type URLDetector struct{}

// Name returns "url".
func (URLDetector) Name() string { return "url" }

// Detect appends the URLs in text to dst.
func (d URLDetector) Detect(text string, dst []Finding) []Finding {
	last := 0
	for off := 0; off < len(text); {
		k := strings.Index(text[off:], "://")
		if k < 0 {
			break
		}
		p := off + k
		off = p + 3
		start := -1
		switch {
		case p >= 5 && hasPrefixFold(text, p-5, "https"):
			start = p - 5
		case p >= 4 && hasPrefixFold(text, p-4, "http"):
			start = p - 4
		}
		if start < last || (start > 0 && isAlnum(text[start-1])) {
			continue
		}
		end := urlEnd(text, p+3)
		if end <= p+3 {
			continue
		}
		dst = append(dst, Finding{Type: TypeURL, Start: start, End: end, Confidence: confContext, Detector: d.Name()})
		last, off = end, end
	}

	for _, prefix := range [...]string{"www.", "WWW."} {
		for off := 0; off < len(text); {
			k := strings.Index(text[off:], prefix)
			if k < 0 {
				break
			}
			start := off + k
			off = start + len(prefix)
			if start > 0 {
				prev := text[start-1]
				if isAlnum(prev) || prev == '.' || prev == '/' || prev == '@' || prev == '-' {
					continue
				}
			}
			end := urlEnd(text, start+len(prefix))
			if end-start < len(prefix)+3 {
				continue
			}
			dst = append(dst, Finding{Type: TypeURL, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
			off = end
		}
	}
	return dst
}

// urlEnd returns the end of the URL whose host starts at i.
func urlEnd(text string, i int) int {
	j := i
	parens, brackets := 0, 0
	for j < len(text) {
		c := text[j]
		if c <= ' ' || c == '"' || c == '<' || c == '>' || c == '`' || c == 0x7f {
			break
		}
		switch c {
		case '(':
			parens++
		case ')':
			parens--
		case '[':
			brackets++
		case ']':
			brackets--
		}
		j++
	}

	// Strip punctuation that belongs to the sentence. A closing bracket
	// stays when the URL opened it, as in Wikipedia-style paths.
	for j > i {
		c := text[j-1]
		switch {
		case c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' || c == '*':
		case c == ')' && parens < 0:
			parens++
		case c == ']' && brackets < 0:
			brackets++
		default:
			return j
		}
		j--
	}
	return j
}

// IPDetector finds IPv4 addresses in dotted-quad form and IPv6 addresses
// in full or "::"-compressed form. IPv4 octets must be 0-255 without
// leading zeros. A dotted quad inside a longer dotted run ("1.2.3.4.5") or
// right after "version" or "v" is taken as a version number, not an
// address.
type IPDetector struct{}

// Name returns "ip".
func (IPDetector) Name() string { return "ip" }

// versionCues are the words after which a dotted quad is a version number.
var versionCues = newCueList("version", "ver", "release", "build", "v")

// maxIPv6Len is the length of the longest IPv6 text form,
// "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
const maxIPv6Len = 45

// Detect appends the IP addresses in text to dst.
func (d IPDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect with the IPv4 scan visiting only the
// positions of setNumberStart, through ix when it is not nil.
func (d IPDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	dst = d.detectIPv4(text, ix, dst)
	return d.detectIPv6(text, dst)
}

func (d IPDetector) detectIPv4(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setNumberStart, 0); i < len(text); i = ix.next(text, setNumberStart, i+1) {
		if !isDigit(text[i]) {
			continue
		}
		start := i
		i += digitsAt(text, i) - 1
		if start > 0 && (isAlnum(text[start-1]) || text[start-1] == '.') {
			continue
		}
		end := ipv4End(text, start)
		if end < 0 {
			continue
		}
		if cueBefore(ix, text, start, 12, versionCues) >= 0 {
			i = end - 1
			continue
		}
		dst = append(dst, Finding{Type: TypeIPAddress, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// ipv4End returns the end of the dotted quad starting at i, or -1.
func ipv4End(text string, i int) int {
	j := i
	for octet := 0; octet < 4; octet++ {
		if octet > 0 {
			if j >= len(text) || text[j] != '.' {
				return -1
			}
			j++
		}
		n := digitsAt(text, j)
		if n == 0 || n > 3 || (n > 1 && text[j] == '0') || atoi(text[j:j+n]) > 255 {
			return -1
		}
		j += n
	}
	if j < len(text) && (isAlnum(text[j]) || (text[j] == '.' && j+1 < len(text) && isAlnum(text[j+1]))) {
		return -1
	}
	return j
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func (d IPDetector) detectIPv6(text string, dst []Finding) []Finding {
	last := 0
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], ':')
		if k < 0 {
			break
		}
		p := off + k
		off = p + 1
		if p < last {
			continue
		}

		start := p
		for start > 0 && p-start < maxIPv6Len && (isHex(text[start-1]) || text[start-1] == ':') {
			start--
		}
		end := p
		for end < len(text) && end-start < maxIPv6Len+1 && (isHex(text[end]) || text[end] == ':' || text[end] == '.') {
			end++
		}
		for end > p && text[end-1] == '.' {
			end--
		}
		if end-start > maxIPv6Len {
			continue
		}
		if start > 0 && (isAlnum(text[start-1]) || text[start-1] == '.') {
			continue
		}
		if end < len(text) && (isAlnum(text[end]) || text[end] == ':') {
			continue
		}
		// A lone trailing colon ends a label ("addr fe80::1:"), but "::"
		// is part of the address ("fe80::").
		if end-start >= 2 && text[end-1] == ':' && text[end-2] != ':' {
			end--
		}
		candidate := text[start:end]
		if strings.Count(candidate, ":") < 2 || hexDigits(candidate) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(candidate)
		if err != nil || !addr.Is6() {
			continue
		}
		dst = append(dst, Finding{Type: TypeIPAddress, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
		last, off = end, max(end, p+1)
	}
	return dst
}

func hexDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isHex(s[i]) {
			n++
		}
	}
	return n
}
