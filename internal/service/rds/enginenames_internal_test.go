package rds

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/state"
)

// TestNoEngineNameSwitch: outside the engine packages no code compares
// with or switches on an engine's name; where AWS differs by engine, the
// engine says so (package engine).
func TestNoEngineNameSwitch(t *testing.T) {
	t.Parallel()
	names := map[string]bool{"mysql": true}
	for _, e := range New(state.NewMemory(), Config{}).engines.All() {
		names[e.Name()] = true
	}
	for _, dir := range []string{".", "controller", "records"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				var operands []ast.Expr
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if n.Op == token.EQL || n.Op == token.NEQ {
						operands = []ast.Expr{n.X, n.Y}
					}
				case *ast.CaseClause:
					operands = n.List
				}
				for _, e := range operands {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, _ := strconv.Unquote(lit.Value); names[v] {
							t.Errorf("%s: compares with the engine name %s", fset.Position(lit.Pos()), lit.Value)
						}
					}
				}
				return true
			})
		}
	}
}
