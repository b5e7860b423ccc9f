// Command codegen generates minicloud's protocol surface from the official AWS
// API models: for each service in the config it writes, under internal/api,
// a package holding the service's trimmed model (every operation, the shapes of
// the implemented ones and every error shape), Go types for the shapes the
// implemented operations use, the Server interface of those operations and
// Handlers, which binds a Server's methods to them. Run it with
// `go generate ./internal/api/`; its tests fail when the committed output
// differs from what it writes.
//
// The models come from the aws-sdk-go v1 module (models/apis), located through
// `go list -m`, so the model version is the one go.mod pins.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/minicloud/minicloud/internal/model"
)

// serviceConfig is one entry of services.json.
type serviceConfig struct {
	Name       string         `json:"name"`
	Model      string         `json:"model"`
	Package    string         `json:"package"`
	Operations []string       `json:"operations"`
	Metadata   map[string]any `json:"metadata"`
	Why        string         `json:"why"`
}

func main() {
	configPath := flag.String("config", "services.json", "service list")
	module := flag.String("models-module", "github.com/aws/aws-sdk-go", "Go module that ships models/apis")
	out := flag.String("out", ".", "directory that receives one package per service")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("codegen: ")

	if err := run(*configPath, *module, *out); err != nil {
		log.Fatal(err)
	}
}

// run writes the packages of every service in the config at configPath, and
// the catalog, under outDir.
func run(configPath, module, outDir string) error {
	cfgData, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	var cfg []serviceConfig
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	dir, version, err := moduleDir(module)
	if err != nil {
		return err
	}
	var pkgs []string
	for _, sc := range cfg {
		if err := generate(sc, dir, version, outDir); err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		pkgs = append(pkgs, sc.Package)
	}
	return writeCatalog(outDir, pkgs, version)
}

// errNotDownloaded is moduleDir's error when the models module is pinned in
// go.mod but not in the module cache: nothing builds it, so only an explicit
// download puts it there.
var errNotDownloaded = errors.New("not downloaded")

// moduleDir locates the pinned version of module in the module cache.
func moduleDir(module string) (dir, version string, err error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", module)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] == "" {
		return "", "", fmt.Errorf("module %s: %w; run go mod download %s (scripts/deps.sh does)", module, errNotDownloaded, module)
	}
	return f[0], f[1], nil
}

func generate(sc serviceConfig, modDir, version, outDir string) error {
	src := filepath.Join(modDir, "models", "apis", sc.Model, "api-2.json")
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	svc, err := model.Load(data)
	if err != nil {
		return err
	}
	implemented := map[string]bool{}
	for _, op := range sc.Operations {
		if _, ok := svc.Operations[op]; !ok {
			return fmt.Errorf("operation %s is not in the model", op)
		}
		implemented[op] = true
	}
	// Shapes: those reachable from the implemented operations, plus every
	// exception, so any error code maps to its HTTP status.
	keep := map[string]bool{}
	var walk func(sh *model.Shape)
	walk = func(sh *model.Shape) {
		if keep[sh.Name] {
			return
		}
		keep[sh.Name] = true
		for _, n := range sh.MemberNames {
			walk(sh.Members[n].Shape)
		}
		for _, r := range []*model.Ref{sh.Member, sh.Key, sh.Value} {
			if r != nil {
				walk(r.Shape)
			}
		}
	}
	typed := map[string]bool{}
	for _, name := range sc.Operations {
		op := svc.Operations[name]
		for _, r := range []*model.Ref{op.Input, op.Output} {
			if r != nil {
				walk(r.Shape)
			}
		}
	}
	for n := range keep {
		typed[n] = true
	}
	for _, sh := range svc.Shapes {
		if sh.Exception {
			walk(sh)
		}
	}

	var rawOps map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw["operations"], &rawOps); err != nil {
		return err
	}
	ops := map[string]map[string]json.RawMessage{}
	for name, ro := range rawOps {
		o := map[string]json.RawMessage{"name": ro["name"], "http": ro["http"]}
		if e, ok := ro["errors"]; ok {
			o["errors"] = e
		}
		if implemented[name] {
			for _, k := range []string{"input", "output"} {
				if v, ok := ro[k]; ok {
					o[k] = v
				}
			}
		}
		ops[name] = o
	}
	var rawShapes map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw["shapes"], &rawShapes); err != nil {
		return err
	}
	shapes := map[string]json.RawMessage{}
	for name := range keep {
		s := rawShapes[name]
		delete(s, "documentation")
		b, err := marshalOrdered(s, name, data)
		if err != nil {
			return err
		}
		shapes[name] = b
	}
	var meta map[string]any
	if err := json.Unmarshal(raw["metadata"], &meta); err != nil {
		return err
	}
	for k, v := range sc.Metadata {
		meta[k] = v
	}
	trimmed, err := json.Marshal(map[string]any{"metadata": meta, "operations": ops, "shapes": shapes})
	if err != nil {
		return err
	}
	pkgDir := filepath.Join(outDir, sc.Package)
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(pkgDir, "model.json"), trimmed, 0o644); err != nil {
		return err
	}
	// Reload the trimmed model: what is embedded is what must link.
	tm, err := model.Load(trimmed)
	if err != nil {
		return fmt.Errorf("trimmed model: %w", err)
	}
	code, err := goSource(sc, tm, typed, version)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(pkgDir, "zz_generated.go"), code, 0o644); err != nil {
		return err
	}
	codecPath := filepath.Join(pkgDir, "zz_codec.go")
	codec, err := codecSource(sc, tm, typed, version)
	if err != nil {
		return err
	}
	if codec == nil {
		if err := os.Remove(codecPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return os.WriteFile(codecPath, codec, 0o644)
}

// marshalOrdered re-encodes a shape, keeping its members in model order:
// query and XML output follow that order, and Go maps would lose it.
func marshalOrdered(s map[string]json.RawMessage, name string, _ []byte) (json.RawMessage, error) {
	members, ok := s["members"]
	if !ok {
		return json.Marshal(s)
	}
	order, err := keyOrder(members)
	if err != nil {
		return nil, fmt.Errorf("shape %s: %w", name, err)
	}
	var mm map[string]json.RawMessage
	if err := json.Unmarshal(members, &mm); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		var c bytes.Buffer
		if err := json.Compact(&c, mm[k]); err != nil {
			return nil, err
		}
		b.Write(c.Bytes())
	}
	b.WriteByte('}')
	s["members"] = b.Bytes()
	// encoding/json sorts map keys but keeps RawMessage bytes as they are.
	return json.Marshal(s)
}

func keyOrder(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// goName makes an exported Go identifier of a model name.
func goName(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" || unicode.IsDigit(rune(out[0])) {
		out = "X" + out
	}
	return out
}

// goType is the Go type of a reference; ptr is false inside lists and maps,
// where elements are values as in aws-sdk-go-v2.
func goType(sh *model.Shape, ptr bool) string {
	p := ""
	if ptr {
		p = "*"
	}
	if sh.Document {
		return "any"
	}
	switch sh.Type {
	case "structure":
		return p + goName(sh.Name)
	case "list":
		return "[]" + goType(sh.Member.Shape, false)
	case "map":
		return "map[string]" + goType(sh.Value.Shape, false)
	case "string", "character":
		return p + "string"
	case "integer":
		return p + "int32"
	case "long":
		return p + "int64"
	case "short":
		return p + "int16"
	case "byte":
		return p + "int8"
	case "float":
		return p + "float32"
	case "double", "bigdecimal":
		return p + "float64"
	case "boolean":
		return p + "bool"
	case "timestamp":
		return p + "time.Time"
	case "blob":
		return "[]byte"
	}
	return "any"
}

func goSource(sc serviceConfig, svc *model.Service, typed map[string]bool, version string) ([]byte, error) {
	var b bytes.Buffer
	m := svc.Metadata
	fmt.Fprintf(&b, "// Code generated by internal/codec/codegen from github.com/aws/aws-sdk-go@%s models/apis/%s/api-2.json. DO NOT EDIT.\n\n", version, sc.Model)
	fmt.Fprintf(&b, "// Package %s is the generated protocol surface of %s: its model and the Go\n// types of the operations minicloud implements.\npackage %s\n\n", sc.Package, m.ServiceFullName, sc.Package)
	needTime := false
	var structs []*model.Shape
	for name := range typed {
		sh := svc.Shapes[name]
		if sh.Type == "structure" && !sh.Document {
			structs = append(structs, sh)
			for _, mn := range sh.MemberNames {
				if strings.Contains(memberType(sh.Members[mn]), "time.Time") {
					needTime = true
				}
			}
		}
	}
	sort.Slice(structs, func(i, j int) bool { return structs[i].Name < structs[j].Name })
	b.WriteString("import (\n")
	if len(sc.Operations) > 0 {
		b.WriteString("\t\"context\"\n")
	}
	b.WriteString("\t_ \"embed\"\n\t\"sync\"\n")
	if needTime {
		b.WriteString("\t\"time\"\n")
	}
	b.WriteString("\n\t\"github.com/minicloud/minicloud/internal/api\"\n\t\"github.com/minicloud/minicloud/internal/model\"\n)\n\n")
	b.WriteString("//go:embed model.json\nvar modelJSON []byte\n\n")
	signing := m.SigningName
	if signing == "" {
		signing = m.EndpointPrefix
	}
	protocols := m.Protocols
	if len(protocols) == 0 {
		protocols = []string{m.Protocol}
	}
	fmt.Fprintf(&b, "// Info describes the service to the gateway; the model loads on first use.\n")
	fmt.Fprintf(&b, "var Info = &api.ServiceInfo{\n\tName: %q,\n\tSigningName: %q,\n\tEndpointPrefix: %q,\n\tAPIVersion: %q,\n\tProtocols: %#v,\n\tTargetPrefix: %q,\n\tJSONVersion: %q,\n\tModel: sync.OnceValue(load),\n}\n\n",
		sc.Name, signing, m.EndpointPrefix, m.APIVersion, protocols, m.TargetPrefix, m.JSONVersion)
	b.WriteString("func load() *model.Service {\n\tm, err := model.Load(modelJSON)\n\tif err != nil {\n\t\tpanic(\"" + sc.Package + ": embedded model: \" + err.Error())\n\t}\n\treturn m\n}\n\n")

	if len(sc.Operations) > 0 {
		ops := append([]string(nil), sc.Operations...)
		sort.Strings(ops)
		b.WriteString("// Server is the business logic of the operations minicloud implements.\ntype Server interface {\n")
		for _, name := range ops {
			op := svc.Operations[name]
			fmt.Fprintf(&b, "\t%s(context.Context, *%s) (*%s, error)\n", goName(name), ioType(op.Input), ioType(op.Output))
		}
		b.WriteString("}\n\n")
		// Handlers takes a Server, not any: a method whose signature differs
		// from the model's fails to compile instead of silently leaving its
		// operation NotImplemented.
		b.WriteString("// Handlers maps every operation of Server to s's method. The model's other\n" +
			"// operations have no handler, and the gateway answers them NotImplemented;\n" +
			"// listing one in services.json and regenerating adds it to Server, and the\n" +
			"// compiler then asks the service for its method.\n" +
			"func Handlers(s Server) map[string]api.Handler {\n\treturn map[string]api.Handler{\n")
		for _, name := range ops {
			fmt.Fprintf(&b, "\t\t%q: api.Typed(s.%s),\n", name, goName(name))
		}
		b.WriteString("\t}\n}\n\n")
		if needsEmpty(svc, ops) {
			b.WriteString("// Empty is the input or output of an operation that has none.\ntype Empty struct{}\n\n")
		}
	}
	for _, sh := range structs {
		fmt.Fprintf(&b, "// %s is the %s shape.\ntype %s struct {\n", goName(sh.Name), sh.Name, goName(sh.Name))
		for _, mn := range sh.MemberNames {
			ref := sh.Members[mn]
			fmt.Fprintf(&b, "\t%s %s `aws:%q`\n", goName(mn), memberType(ref), mn)
		}
		b.WriteString("}\n\n")
	}
	return format.Source(b.Bytes())
}

// memberType is the Go type of a structure member: a jsonvalue member holds
// the JSON value itself, as a document does.
func memberType(ref *model.Ref) string {
	if ref.JSONValue {
		return "any"
	}
	return goType(ref.Shape, true)
}

func ioType(r *model.Ref) string {
	if r == nil {
		return "Empty"
	}
	return goName(r.Shape.Name)
}

func needsEmpty(svc *model.Service, ops []string) bool {
	for _, name := range ops {
		op := svc.Operations[name]
		if op.Input == nil || op.Output == nil {
			return true
		}
	}
	return false
}

func writeCatalog(outDir string, pkgs []string, version string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/codec/codegen from github.com/aws/aws-sdk-go@%s. DO NOT EDIT.\n\n", version)
	b.WriteString("// Package catalog lists every service whose protocol surface is generated.\npackage catalog\n\nimport (\n\t\"github.com/minicloud/minicloud/internal/api\"\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t\"github.com/minicloud/minicloud/internal/api/%s\"\n", p)
	}
	b.WriteString(")\n\n// All is every generated service, in services.json order.\nvar All = []*api.ServiceInfo{\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t%s.Info,\n", p)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(outDir, "catalog"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "catalog", "zz_generated.go"), src, 0o644)
}
