package model

import (
	"fmt"
	"net/url"
	"strings"
)

// URIPattern is a parsed requestUri such as "/{Bucket}/{Key+}?uploads".
type URIPattern struct {
	Raw      string
	Segments []Segment
	// Query holds the literal query parameters the URI requires; a value of ""
	// means the key must only be present.
	Query map[string]string
}

// Segment is one path segment: Prefix, then an optional label, then Suffix.
type Segment struct {
	Prefix string
	Label  string
	Greedy bool
	Suffix string
}

// ParseURIPattern parses an operation's requestUri.
func ParseURIPattern(raw string) (*URIPattern, error) {
	p := &URIPattern{Raw: raw}
	path, query, _ := strings.Cut(raw, "?")
	if query != "" {
		p.Query = map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			p.Query[k] = v
		}
	}
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return p, nil
	}
	for _, part := range strings.Split(path, "/") {
		seg := Segment{Prefix: part}
		if i := strings.IndexByte(part, '{'); i >= 0 {
			j := strings.IndexByte(part[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("requestUri %q: unclosed label", raw)
			}
			seg.Prefix = part[:i]
			seg.Label = part[i+1 : i+j]
			seg.Suffix = part[i+j+1:]
			if strings.HasSuffix(seg.Label, "+") {
				seg.Label = strings.TrimSuffix(seg.Label, "+")
				seg.Greedy = true
			}
		}
		p.Segments = append(p.Segments, seg)
	}
	return p, nil
}

// Specificity ranks patterns so that the most literal one wins when several
// match one request: more literal characters, then more required query keys.
func (p *URIPattern) Specificity() int {
	n := 0
	for _, s := range p.Segments {
		n += 10 * (len(s.Prefix) + len(s.Suffix))
		if s.Label == "" {
			n += 1000
		} else if !s.Greedy {
			n += 100
		}
	}
	return n + 10000*len(p.Query)
}

// Match matches an escaped request path and its query against the pattern and
// returns the unescaped label values.
func (p *URIPattern) Match(escapedPath string, query url.Values) (map[string]string, bool) {
	for k, v := range p.Query {
		got, ok := query[k]
		if !ok {
			return nil, false
		}
		if v != "" && (len(got) == 0 || got[0] != v) {
			return nil, false
		}
	}
	path := strings.TrimPrefix(escapedPath, "/")
	var parts []string
	if path != "" {
		parts = strings.Split(path, "/")
	}
	labels := map[string]string{}
	if !matchSegments(p.Segments, parts, labels) {
		return nil, false
	}
	return labels, true
}

func matchSegments(segs []Segment, parts []string, labels map[string]string) bool {
	if len(segs) == 0 {
		// A trailing slash in the request where the pattern has none is accepted,
		// as AWS front ends do.
		return len(parts) == 0 || (len(parts) == 1 && parts[0] == "")
	}
	s := segs[0]
	if s.Greedy {
		// The greedy label takes as many parts as leave enough for the rest.
		rest := len(segs) - 1
		for n := len(parts) - rest; n >= 1; n-- {
			joined := strings.Join(parts[:n], "/")
			v, ok := s.matchPart(joined)
			if !ok || v == "" {
				continue
			}
			if matchSegments(segs[1:], parts[n:], labels) {
				labels[s.Label] = v
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		// A pattern's trailing slash ("…/rrset/") is optional in the
		// request: the current SDKs drop it (aws-sdk-go-v2 sends "…/rrset").
		return len(segs) == 1 && s.Label == "" && s.Prefix == "" && s.Suffix == ""
	}
	v, ok := s.matchPart(parts[0])
	if !ok {
		return false
	}
	if s.Label != "" {
		if v == "" {
			return false
		}
		labels[s.Label] = v
	}
	return matchSegments(segs[1:], parts[1:], labels)
}

func (s Segment) matchPart(part string) (string, bool) {
	if s.Label == "" {
		u, err := url.PathUnescape(part)
		return "", err == nil && u == s.Prefix
	}
	if !strings.HasPrefix(part, s.Prefix) || !strings.HasSuffix(part[len(s.Prefix):], s.Suffix) {
		return "", false
	}
	raw := part[len(s.Prefix) : len(part)-len(s.Suffix)]
	v, err := url.PathUnescape(raw)
	if err != nil {
		return "", false
	}
	return v, true
}
