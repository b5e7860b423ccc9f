package cloudinit

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseConfig reads one #cloud-config document. cloud-init accepts only a
// mapping at the top; an empty document is an empty config.
func parseConfig(payload []byte) (map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(payload, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Yaml load allows (<class 'dict'>,) root types, but got %s instead", pyTypeName(v))
	}
	return m, nil
}

// normalize turns the map[any]any yaml produces for non-string keys into
// map[string]any, so lookups need one type.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
	}
	return v
}

// mergeConfig merges src into dst the way cloud-init merges cloud-config
// parts by default (dict(replace)+list()+str()): mappings merge key by
// key, anything else in a later part replaces the earlier value — so a
// second part's runcmd replaces the first's, as if the parts had been
// one YAML file.
func mergeConfig(dst, src map[string]any) {
	for k, v := range src {
		if dm, ok := dst[k].(map[string]any); ok {
			if sm, ok := v.(map[string]any); ok {
				mergeConfig(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func marshalConfig(cfg map[string]any) ([]byte, error) {
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return append([]byte("#cloud-config\n"), out...), nil
}

// active reports whether any of a module's keys is in the config: since
// cloud-init 22.1 a module whose keys are all absent is skipped without
// writing its semaphore (activate_by_schema_keys).
func (r *run) active(keys ...string) bool {
	for _, k := range keys {
		if _, ok := r.cfg[k]; ok {
			return true
		}
	}
	return false
}

// bootcmd runs cloud-config bootcmd on every boot, as a /bin/sh script
// with INSTANCE_ID set (cc_bootcmd).
func (r *run) bootcmd() error {
	script, err := shellify(r.cfg["bootcmd"])
	if err != nil {
		r.warn("cc_bootcmd.py", "Failed to shellify bootcmd: %v", err)
		return err
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(bootTmpDir, "tmp"+hex.EncodeToString(rnd[:])+".sh")
	if err := r.writeFile(tmp, []byte(script), 0o600, false); err != nil {
		r.warn("cc_bootcmd.py", "Failed to run bootcmd module bootcmd")
		return err
	}
	defer r.root.Remove(rel(tmp))
	if !r.exec([]string{"/bin/sh", tmp}, []string{"INSTANCE_ID=" + r.iid}) {
		r.warn("cc_bootcmd.py", "Failed to run bootcmd module bootcmd")
		return errors.New("bootcmd failed")
	}
	return nil
}

// runcmd writes cloud-config runcmd to instances/<id>/scripts/runcmd; the
// scripts_user module runs it with the user data scripts (cc_runcmd).
func (r *run) runcmd() error {
	p := path.Join(r.idir, "scripts", "runcmd")
	script, err := shellify(r.cfg["runcmd"])
	if err == nil {
		err = r.writeFile(p, []byte(script), 0o700, false)
	}
	if err != nil {
		r.warn("cc_runcmd.py", "Failed to shellify %s into file %s: %v", pyRepr(r.cfg["runcmd"]), p, err)
		return err
	}
	return nil
}

// packages is cc_package_update_upgrade_install on a host without network:
// the package sources cannot be updated and nothing can be installed. It
// logs what cloud-init logs when the mirrors are unreachable, and says why.
func (r *run) packages() error {
	const mod = "cc_package_update_upgrade_install.py"
	update := truthy(r.cfg["package_update"]) || truthy(r.cfg["apt_update"])
	upgrade := truthy(r.cfg["package_upgrade"]) || truthy(r.cfg["apt_upgrade"])
	pkgs, _ := r.cfg["packages"].([]any)
	if !update && !upgrade && len(pkgs) == 0 {
		return nil
	}
	r.note("packages cannot be installed or updated: minicloud instances are offline and reach no package repository; bake packages into the image instead")
	errs := 0
	r.warn(mod, "Package update failed")
	errs++
	if upgrade {
		r.warn(mod, "Package upgrade failed")
		errs++
	}
	if len(pkgs) > 0 {
		r.warn(mod, "Failed to install packages: %s", pyRepr(pkgs))
		errs++
	}
	r.warn(mod, "%d failed with exceptions, re-raising", errs)
	return errors.New("package installation failed")
}

// fileEntry is one write_files entry.
type fileEntry struct {
	path     string
	content  []byte
	perm     os.FileMode
	owner    string
	appendTo bool
}

// writeFiles is cc_write_files (deferred false, in the init stage) and
// cc_write_files_deferred (deferred true, in the final stage). A bad entry
// is logged and skipped; the module then counts as failed.
func (r *run) writeFiles(deferred bool) error {
	name := "write_files"
	if deferred {
		name = "write_files_deferred"
	}
	list, ok := r.cfg["write_files"].([]any)
	if !ok {
		r.warn("cc_"+name+".py", "Invalid write_files config: expected a list, got %s", pyTypeName(r.cfg["write_files"]))
		return errors.New("invalid write_files")
	}
	failed := false
	for i, raw := range list {
		m, ok := raw.(map[string]any)
		if !ok {
			r.warn("cc_"+name+".py", "Invalid write_files entry %d: expected a mapping", i+1)
			failed = true
			continue
		}
		if truthy(m["defer"]) != deferred {
			continue
		}
		e, err := r.fileEntry(name, i, m)
		if err != nil {
			failed = true
			continue
		}
		if e == nil {
			continue
		}
		if err := r.writeEntry(name, e); err != nil {
			failed = true
		}
	}
	if failed {
		return errors.New("write_files failed")
	}
	return nil
}

// fileEntry decodes one write_files entry; nil, nil means skip it quietly
// (after a warning), as cloud-init does for a missing path.
func (r *run) fileEntry(module string, i int, m map[string]any) (*fileEntry, error) {
	file := "cc_" + module + ".py"
	p, _ := m["path"].(string)
	if p == "" {
		r.warn(file, "No path provided to write for entry %d in module %s", i+1, module)
		return nil, nil
	}
	// cloud-init would follow "..", but on minicloud the path is on the
	// host: refuse anything that names a parent rather than clamp it.
	if slices.Contains(strings.Split(p, "/"), "..") {
		r.note("refusing to write %s (write_files entry %d): the path must not contain \"..\"", p, i+1)
		return nil, errors.New("path escapes")
	}
	e := &fileEntry{path: path.Clean("/" + p), owner: "root:root", perm: 0o644}
	var content []byte
	if src, ok := m["source"].(map[string]any); ok {
		if uri, _ := src["uri"].(string); uri != "" {
			b, err := r.fetch(uri)
			if err == nil {
				content = b
			} else {
				r.warn(file, "Failed to retrieve contents from source \"%s\"; falling back to data from \"contents\" key", uri)
			}
		}
	}
	if content == nil {
		var err error
		content, err = extractContents(m["content"], m["encoding"])
		if err != nil {
			r.warn(file, "Failed to decode content of %s (encoding %v): %v", e.path, m["encoding"], err)
			return nil, err
		}
		if enc, _ := m["encoding"].(string); enc != "" && canonicalEncoding(enc) == "" {
			r.warn("util.py", "Unknown encoding type %s, assuming text/plain", strings.ToLower(strings.TrimSpace(enc)))
		}
	}
	e.content = content
	if o, ok := m["owner"].(string); ok && o != "" {
		e.owner = o
	}
	perm, ok := decodePerms(m["permissions"])
	if !ok {
		r.warn("util.py", "Undecodable permissions %s, returning default 644", pyRepr(m["permissions"]))
		perm = 0o644
	}
	e.perm = perm
	e.appendTo = truthy(m["append"])
	return e, nil
}

// writeEntry writes one file, then sets its mode (also when appending, as
// util.write_file does) and, when minicloud runs as root, its owner.
func (r *run) writeEntry(module string, e *fileEntry) error {
	file := "cc_" + module + ".py"
	if err := r.writeFile(e.path, e.content, e.perm, e.appendTo); err != nil {
		r.warn(file, "Failed to write %s: %v", e.path, err)
		return err
	}
	uid, gid, err := r.lookupOwner(e.owner)
	if err != nil {
		r.warn(file, "Failed to change ownership of %s to %s: %v", e.path, e.owner, err)
		return err
	}
	// Files are created by minicloud's user; only root can give them away,
	// and root:root is what root already created.
	if os.Geteuid() == 0 && (uid > 0 || gid > 0) {
		if err := r.root.Chown(rel(e.path), uid, gid); err != nil {
			r.warn(file, "Failed to change ownership of %s to %s: %v", e.path, e.owner, err)
			return err
		}
	}
	return nil
}

// writeFile writes an instance-absolute path under the root, creating its
// parent directories; perm is applied even to an existing file.
func (r *run) writeFile(p string, data []byte, perm os.FileMode, appendTo bool) error {
	name := rel(p)
	if err := r.root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := r.root.OpenFile(name, flag, perm&os.ModePerm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return r.root.Chmod(name, perm)
}

// lookupOwner resolves "user[:group]" against the instance's own
// /etc/passwd and /etc/group (the names mean what they mean inside the
// instance, not on the host). A part that is absent is -1, left unchanged,
// as cloud-init's chownbyname leaves it.
func (r *run) lookupOwner(owner string) (uid, gid int, err error) {
	user, group, _ := strings.Cut(owner, ":")
	uid, gid = -1, -1
	if user != "" {
		if uid, err = r.lookupID("/etc/passwd", user); err != nil {
			return 0, 0, fmt.Errorf("getpwnam(): name not found: '%s'", user)
		}
	}
	if group != "" {
		if gid, err = r.lookupID("/etc/group", group); err != nil {
			return 0, 0, fmt.Errorf("getgrnam(): name not found: '%s'", group)
		}
	}
	return uid, gid, nil
}

// lookupID finds name's numeric ID (third field) in a passwd-format file.
// root is always 0, so images without /etc files still accept the default
// owner root:root.
func (r *run) lookupID(file, name string) (int, error) {
	if name == "root" {
		return 0, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	data, err := r.root.ReadFile(rel(file))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 3 && f[0] == name {
			return strconv.Atoi(f[2])
		}
	}
	return 0, fs.ErrNotExist
}

// canonicalEncoding is cloud-init's canonicalize_extraction: the decoding
// steps an encoding name means, "" when unknown.
func canonicalEncoding(enc string) string {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "gz", "gzip":
		return "gz"
	case "gz+base64", "gzip+base64", "gz+b64", "gzip+b64":
		return "gz+b64"
	case "b64", "base64":
		return "b64"
	case "", "text/plain":
		return "text"
	}
	return ""
}

// extractContents decodes write_files content per its encoding; unknown
// encodings are text/plain, as in cloud-init.
func extractContents(content, encoding any) ([]byte, error) {
	var data []byte
	switch c := content.(type) {
	case nil:
	case string:
		data = []byte(c)
	default:
		data = []byte(fmt.Sprint(c))
	}
	enc, _ := encoding.(string)
	switch canonicalEncoding(enc) {
	case "gz":
		return gunzip(data)
	case "gz+b64":
		d, err := b64decode(data)
		if err != nil {
			return nil, err
		}
		return gunzip(d)
	case "b64":
		return b64decode(data)
	}
	return data, nil
}

// b64decode decodes like Python's base64.b64decode: characters outside the
// alphabet (the line breaks of a YAML block scalar) are discarded.
func b64decode(data []byte) ([]byte, error) {
	clean := bytes.Map(func(c rune) rune {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
			return c
		}
		return -1
	}, data)
	out, err := base64.StdEncoding.DecodeString(string(clean))
	if err != nil {
		return nil, fmt.Errorf("Incorrect padding or invalid base64: %w", err)
	}
	return out, nil
}

// decodePerms is cloud-init's decode_perms: numbers are used as they are
// (YAML's 0644 is already octal), strings are read as octal. ok is false
// when the value cannot be read; nil means the default 0644.
func decodePerms(v any) (os.FileMode, bool) {
	var n int64
	switch t := v.(type) {
	case nil:
		return 0o644, true
	case int:
		n = int64(t)
	case int64:
		n = t
	case uint64:
		n = int64(t)
	case float64:
		n = int64(t)
	case string:
		s := strings.TrimSpace(t)
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
		var err error
		if n, err = strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 8, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if n < 0 || n > 0o7777 {
		return 0, false
	}
	mode := os.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if n&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if n&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode, true
}

// shellify is cloud-init's util.shellify: a /bin/sh script with one line
// per item; a string is a line as it is, a list is argv, each word single-
// quoted.
func shellify(v any) (string, error) {
	list, ok := v.([]any)
	if !ok {
		return "", fmt.Errorf("Input to shellify was type '%s'. Expected list or tuple.", pyTypeName(v))
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, item := range list {
		switch t := item.(type) {
		case string:
			b.WriteString(t)
		case []any:
			for i, w := range t {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString("'" + strings.ReplaceAll(pyStr(w), "'", `'\''`) + "'")
			}
		default:
			return "", fmt.Errorf("Unable to shellify type '%s'. Expected list, string, tuple. Got: %s", pyTypeName(item), pyRepr(item))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// truthy is cloud-init's translate_bool.
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case int:
		return t == 1
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1", "on", "yes", "y":
			return true
		}
	}
	return false
}

// pyStr is Python's str() of a YAML scalar.
func pyStr(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case string:
		return t
	}
	return fmt.Sprint(v)
}

// pyRepr is Python's repr() of a YAML value, for messages that quote the
// config the way cloud-init's do.
func pyRepr(v any) string {
	switch t := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`) + "'"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(t))
		for k, e := range t {
			parts = append(parts, pyRepr(k)+": "+pyRepr(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return pyStr(v)
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case int, int64, uint64:
		return "int"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any, map[any]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
