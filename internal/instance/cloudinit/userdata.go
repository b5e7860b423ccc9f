package cloudinit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"path"
	"strings"
)

// Content types of user data parts, as cloud-init names them
// (cloudinit/handlers/__init__.py).
const (
	typeNotMultipart  = "text/x-not-multipart"
	typeShellScript   = "text/x-shellscript"
	typeCloudConfig   = "text/cloud-config"
	typeInclude       = "text/x-include-url"
	typeIncludeOnce   = "text/x-include-once-url"
	typeBoothook      = "text/cloud-boothook"
	typeUpstartJob    = "text/upstart-job"
	typePartHandler   = "text/part-handler"
	typeConfigArchive = "text/cloud-config-archive"
	typeJSONP         = "text/cloud-config-jsonp"
	typeJinja         = "text/jinja2"
	typeScriptPerBoot = "text/x-shellscript-per-boot"
	typeScriptPerInst = "text/x-shellscript-per-instance"
	typeScriptPerOnce = "text/x-shellscript-per-once"
)

// startsWith maps a payload's first characters to its type, longest
// prefix first, as cloud-init's INCLUSION_SRCH does.
var startsWith = []struct{ prefix, ctype string }{
	{"#cloud-config-archive", typeConfigArchive},
	{"#cloud-config-jsonp", typeJSONP},
	{"#cloud-boothook", typeBoothook},
	{"#include-once", typeIncludeOnce},
	{"#cloud-config", typeCloudConfig},
	{"#part-handler", typePartHandler},
	{"#upstart-job", typeUpstartJob},
	{"## template: jinja", typeJinja},
	{"#include", typeInclude},
	{"#!", typeShellScript},
}

// maxIncludeDepth bounds #include recursion (an include that includes
// itself would otherwise loop).
const maxIncludeDepth = 10

// consumeUserData writes user-data.txt, walks the user data's parts and
// hands each to its handler: scripts are saved for scripts_user, boothooks
// run now, cloud-config is merged into r.cfg. cloud-init does this on
// every boot; what runs once is decided by the modules' semaphores.
func (r *run) consumeUserData() {
	ud := r.b.UserData
	if err := r.writeFile(path.Join(r.idir, "user-data.txt"), ud, 0o600, false); err != nil {
		r.warn("stages.py", "Failed to write user data: %v", err)
	}
	r.walk(ud, "", "", 0)
	if len(r.cfg) > 0 {
		if out, err := marshalConfig(r.cfg); err == nil {
			_ = r.writeFile(path.Join(r.idir, "cloud-config.txt"), out, 0o600, false)
		}
	}
}

// walk processes one blob of user data whose MIME type is ctype ("" when
// unknown) and, when it came from a MIME part, whose filename is filename.
func (r *run) walk(data []byte, ctype, filename string, depth int) {
	if isGzip(data) {
		d, err := gunzip(data)
		if err != nil {
			r.warn("util.py", "Failed decompressing user data: %v", err)
			return
		}
		data = d
		if ctype == "application/x-gzip" || ctype == "application/gzip" || ctype == "application/gzip-compressed" {
			ctype = ""
		}
	}
	if ctype == "" {
		if isMIME(data) {
			r.walkMIME(data, depth)
			return
		}
		ctype = typeNotMultipart
	}
	if ctype == typeNotMultipart || ctype == "text/plain" || ctype == "application/octet-stream" {
		if t := typeOf(data); t != "" {
			ctype = t
		}
	}
	if strings.HasPrefix(ctype, "multipart/") {
		r.walkMIME(data, depth)
		return
	}
	r.parts++
	if filename == "" {
		filename = fmt.Sprintf("part-%03d", r.parts)
	}
	r.handle(ctype, filename, data, depth)
}

// handle dispatches one part to its handler.
func (r *run) handle(ctype, filename string, payload []byte, depth int) {
	switch ctype {
	case typeShellScript:
		r.saveScript(path.Join(r.idir, "scripts"), filename, payload)
	case typeScriptPerBoot:
		r.saveScript(path.Join(cloudDir, "scripts", "per-boot"), filename, payload)
	case typeScriptPerInst:
		r.saveScript(path.Join(cloudDir, "scripts", "per-instance"), filename, payload)
	case typeScriptPerOnce:
		r.saveScript(path.Join(cloudDir, "scripts", "per-once"), filename, payload)
	case typeCloudConfig:
		cfg, err := parseConfig(payload)
		if err != nil {
			r.warn("util.py", "Failed loading yaml blob. %v", err)
			r.warn("cloud_config.py", "Failed at merging in cloud config part from %s", filename)
			return
		}
		mergeConfig(r.cfg, cfg)
	case typeInclude, typeIncludeOnce:
		r.include(payload, depth)
	case typeBoothook:
		r.boothook(filename, payload)
	default:
		if len(bytes.TrimSpace(payload)) == 0 {
			return
		}
		details := "'" + pyEscapedRepr(firstLine(payload, 24)) + "...'"
		if ctype == typeNotMultipart {
			r.warn("__init__.py", "Unhandled non-multipart (%s) userdata: %s", ctype, details)
		} else {
			r.warn("__init__.py", "Unhandled unknown content-type (%s) userdata: %s", ctype, details)
		}
	}
}

// saveScript writes a script part where the scripts modules will find it,
// executable, under its cleaned filename, as cloud-init's shell script
// handlers do.
func (r *run) saveScript(dir, filename string, payload []byte) {
	name := r.safeName(filename)
	if err := r.writeFile(path.Join(dir, name), payload, 0o700, false); err != nil {
		r.warn("shell_script.py", "Failed to write script %s: %v", path.Join(dir, name), err)
	}
}

// boothook saves and runs a #cloud-boothook part; cloud-init runs them on
// every boot, early, with INSTANCE_ID set.
func (r *run) boothook(filename string, payload []byte) {
	body := payload
	if i := bytes.IndexByte(body, '\n'); i >= 0 && strings.HasPrefix(strings.ToLower(string(bytes.TrimSpace(body[:i]))), "#cloud-boothook") {
		body = body[i+1:]
	} else if i < 0 {
		body = nil
	}
	p := path.Join(r.idir, "boothooks", r.safeName(filename))
	if err := r.writeFile(p, body, 0o700, false); err != nil {
		r.warn("boot_hook.py", "Boothooks script %s execution error", p)
		return
	}
	if !r.exec([]string{p}, []string{"INSTANCE_ID=" + r.iid}) {
		r.warn("boot_hook.py", "Boothooks script %s execution error", p)
	}
}

// include fetches each URL of an #include part and walks what it returns.
func (r *run) include(payload []byte, depth int) {
	if depth >= maxIncludeDepth {
		r.warn("user_data.py", "Too many levels of #include; ignoring")
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(payload))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		data, err := r.fetch(line)
		if err != nil {
			r.warn("user_data.py", "Fetching from %s resulted in %v", line, err)
			continue
		}
		r.walk(data, "", "", depth+1)
	}
}

// fetch reads an #include URL: file:// from the instance's root, anything
// else through Boot.Fetch.
func (r *run) fetch(url string) ([]byte, error) {
	if p, ok := strings.CutPrefix(url, "file://"); ok {
		return r.root.ReadFile(rel(p))
	}
	if r.b.Fetch == nil {
		return nil, fmt.Errorf("[Errno 101] Network is unreachable (minicloud instances have no route to %s)", url)
	}
	return r.b.Fetch(r.ctx, url)
}

// walkMIME walks a MIME message: a multipart one part by part (nested
// multiparts included), a single-part one as its one part.
func (r *run) walkMIME(data []byte, depth int) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		r.warn("user_data.py", "Failed to parse MIME user data: %v", err)
		return
	}
	body, _ := io.ReadAll(tp.R)
	r.walkEntity(hdr, body, depth)
}

func (r *run) walkEntity(hdr textproto.MIMEHeader, body []byte, depth int) {
	ctype, params, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	if err != nil {
		ctype = ""
	}
	if strings.HasPrefix(ctype, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				r.warn("user_data.py", "Failed to parse MIME user data: %v", err)
				return
			}
			b, err := io.ReadAll(p)
			if err != nil {
				r.warn("user_data.py", "Failed to read MIME part: %v", err)
				return
			}
			r.walkEntity(p.Header, b, depth)
		}
	}
	if strings.EqualFold(strings.TrimSpace(hdr.Get("Content-Transfer-Encoding")), "base64") {
		d, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, string(body)))
		if err != nil {
			r.warn("user_data.py", "Failed to decode base64 MIME part: %v", err)
			return
		}
		body = d
	}
	filename := ""
	if _, dp, err := mime.ParseMediaType(hdr.Get("Content-Disposition")); err == nil {
		filename = dp["filename"]
	}
	if ctype == "" {
		ctype = typeNotMultipart
	}
	r.walk(body, ctype, filename, depth)
}

func dropSpace(c rune) rune {
	switch c {
	case ' ', '\t', '\r', '\n':
		return -1
	}
	return c
}

// typeOf is cloud-init's type_from_starts_with: the type a payload's
// first characters announce (case-insensitive, leading space ignored).
func typeOf(data []byte) string {
	head := data
	if len(head) > 64 {
		head = head[:64]
	}
	s := strings.ToLower(strings.TrimLeft(string(head), " \t\r\n"))
	for _, e := range startsWith {
		if strings.HasPrefix(s, e.prefix) {
			return e.ctype
		}
	}
	return ""
}

// isMIME reports whether data is a MIME message: cloud-init parses user
// data as MIME when "mime-version:" appears in its first 4096 bytes; a
// message that starts with a Content-Type header is accepted too.
func isMIME(data []byte) bool {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	l := strings.ToLower(string(head))
	return strings.Contains(l, "mime-version:") || strings.HasPrefix(strings.TrimLeft(l, "\r\n"), "content-type:")
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// maxDecompressed bounds what a gzip bomb in user data can expand to.
const maxDecompressed = 64 << 20

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxDecompressed+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressed {
		return nil, fmt.Errorf("decompressed data exceeds %d bytes", maxDecompressed)
	}
	return out, nil
}

// firstLine is cloud-init's _extract_first_or_bytes for text: the first
// line, cut to size characters.
func firstLine(b []byte, size int) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > size {
		s = string(r[:size])
	}
	return s
}

// pyEscapedRepr renders s as Python 3 prints s.encode("unicode_escape"),
// which is what cloud-init puts in its "Unhandled … userdata" warning:
// b'…' with escapes.
func pyEscapedRepr(s string) string {
	var esc strings.Builder // the unicode_escape encoding
	for _, c := range s {
		switch {
		case c == '\\':
			esc.WriteString(`\\`)
		case c == '\t':
			esc.WriteString(`\t`)
		case c == '\r':
			esc.WriteString(`\r`)
		case c == '\n':
			esc.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&esc, `\x%02x`, c)
		case c < 0x80:
			esc.WriteRune(c)
		case c < 0x100:
			fmt.Fprintf(&esc, `\x%02x`, c)
		case c < 0x10000:
			fmt.Fprintf(&esc, `\u%04x`, c)
		default:
			fmt.Fprintf(&esc, `\U%08x`, c)
		}
	}
	// bytes.__repr__: single quotes unless the text has a single quote and
	// no double quote.
	e := esc.String()
	quote := byte('\'')
	if strings.Contains(e, "'") && !strings.Contains(e, `"`) {
		quote = '"'
	}
	var out strings.Builder
	out.WriteString("b")
	out.WriteByte(quote)
	for _, c := range []byte(e) {
		switch {
		case c == '\\':
			out.WriteString(`\\`)
		case c == quote:
			out.WriteString(`\'`)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte(quote)
	return out.String()
}

// safeName is filename cleaned, or the part's default name when nothing
// usable is left.
func (r *run) safeName(filename string) string {
	name := cleanFilename(filename)
	if name == "" || name == "." || name == ".." {
		name = fmt.Sprintf("part-%03d", r.parts)
	}
	return name
}

// cleanFilename is cloud-init's util.clean_filename: "/" becomes "_" and
// anything outside [A-Za-z0-9_.()-] is dropped, so a part's filename can
// never name another directory.
func cleanFilename(fn string) string {
	fn = strings.ReplaceAll(fn, "/", "_")
	var b strings.Builder
	for _, c := range fn {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.()", c) {
			b.WriteRune(c)
		}
	}
	return strings.TrimSpace(b.String())
}
