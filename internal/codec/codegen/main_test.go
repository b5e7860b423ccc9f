package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// apiDir is where `go generate ./internal/api/` writes, seen from this
// package's directory (where go test runs it).
const apiDir = "../../api"

// TestCommittedCodeIsCurrent regenerates the protocol surface into a
// temporary directory and compares it with what is committed under
// internal/api: CI fails when generated code was edited by hand, or when the
// generator or services.json changed without `go generate ./internal/api/`.
// It reads the models from the module cache, offline.
func TestCommittedCodeIsCurrent(t *testing.T) {
	const module = "github.com/aws/aws-sdk-go"
	if _, _, err := moduleDir(module); errors.Is(err, errNotDownloaded) {
		// scripts/deps.sh downloads it before the suite runs; a CI run
		// without it would silently check nothing.
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	out := t.TempDir()
	if err := run(filepath.Join(apiDir, "services.json"), module, out); err != nil {
		t.Fatal(err)
	}
	fresh := generatedFiles(t, out)
	if len(fresh) == 0 {
		t.Fatal("the generator wrote nothing")
	}
	for rel, want := range fresh {
		got, err := os.ReadFile(filepath.Join(apiDir, rel))
		if err != nil {
			t.Errorf("internal/api/%s: %v (run go generate ./internal/api/)", rel, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/api/%s differs from a fresh `go generate ./internal/api/`", rel)
		}
	}
	for rel := range generatedFiles(t, apiDir) {
		if _, ok := fresh[rel]; !ok {
			t.Errorf("internal/api/%s is not generated any more (a service left services.json?): remove it", rel)
		}
	}
}

// generatedFiles reads the files the generator writes under dir: each
// package's zz_generated.go and model.json.
func generatedFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (d.Name() != "zz_generated.go" && d.Name() != "model.json") {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestHandlersCheckSignatures compiles services against the generated
// stsapi.Handlers: one that implements stsapi.Server builds, and each that
// gets a method wrong fails to compile with an error naming the method,
// instead of building and answering that operation NotImplemented. The
// services are compiled as a package of this module that exists only in a
// build overlay, so nothing is written into the source tree.
func TestHandlersCheckSignatures(t *testing.T) {
	// The other operations stsapi.Server has besides AssumeRole.
	const getCallerIdentity = `
func (svc) GetCallerIdentity(context.Context, *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	return nil, nil
}
func (svc) GetSessionToken(context.Context, *stsapi.GetSessionTokenRequest) (*stsapi.GetSessionTokenResponse, error) {
	return nil, nil
}
func (svc) AssumeRoleWithWebIdentity(context.Context, *stsapi.AssumeRoleWithWebIdentityRequest) (*stsapi.AssumeRoleWithWebIdentityResponse, error) {
	return nil, nil
}
func (svc) AssumeRoleWithSAML(context.Context, *stsapi.AssumeRoleWithSAMLRequest) (*stsapi.AssumeRoleWithSAMLResponse, error) {
	return nil, nil
}
func (svc) GetFederationToken(context.Context, *stsapi.GetFederationTokenRequest) (*stsapi.GetFederationTokenResponse, error) {
	return nil, nil
}
func (svc) DecodeAuthorizationMessage(context.Context, *stsapi.DecodeAuthorizationMessageRequest) (*stsapi.DecodeAuthorizationMessageResponse, error) {
	return nil, nil
}
`
	for _, tc := range []struct {
		name    string
		methods string
		errs    []string // "" when it must build
	}{
		{"implements Server", `
func (svc) AssumeRole(context.Context, *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	return nil, nil
}` + getCallerIdentity, nil},
		{"wrong input type", `
func (svc) AssumeRole(context.Context, *stsapi.GetCallerIdentityRequest) (*stsapi.AssumeRoleResponse, error) {
	return nil, nil
}` + getCallerIdentity, []string{"AssumeRole", "wrong type for method"}},
		{"output not a pointer", `
func (svc) AssumeRole(context.Context, *stsapi.AssumeRoleRequest) (stsapi.AssumeRoleResponse, error) {
	return stsapi.AssumeRoleResponse{}, nil
}` + getCallerIdentity, []string{"AssumeRole", "wrong type for method"}},
		{"no context", `
func (svc) AssumeRole(*stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	return nil, nil
}` + getCallerIdentity, []string{"AssumeRole", "wrong type for method"}},
		{"method missing", getCallerIdentity, []string{"missing method AssumeRole"}},
		{"misspelt", `
func (svc) AssumeRol(context.Context, *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	return nil, nil
}` + getCallerIdentity, []string{"missing method AssumeRole"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `package bindcheck

import (
	"context"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
)

type svc struct{}

func (s svc) Handlers() map[string]api.Handler { return stsapi.Handlers(s) }
` + tc.methods
			out, err := buildOverlay(t, src)
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("a service implementing stsapi.Server does not build: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("built; want a compile error naming %q", tc.errs)
			}
			for _, want := range tc.errs {
				if !strings.Contains(out, want) {
					t.Errorf("compile error does not say %q:\n%s", want, out)
				}
			}
		})
	}
}

// buildOverlay builds src as the package internal/api/bindcheck of this
// module (inside internal/, so it may import the generated packages) through
// go build -overlay, and returns the compiler's output.
func buildOverlay(t *testing.T, src string) (string, error) {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	file := filepath.Join(tmp, "bindcheck.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(root, "internal", "api", "bindcheck", "bindcheck.go"): file},
	})
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", ov, "./internal/api/bindcheck")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	return string(b), err
}
