package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// A jsonField is one field of a config file: its name as a JSON key,
// nested keys joined by dots ("gpio.green"), and its Go path.
type jsonField struct {
	name   string // "gpio.green"
	goPath string // "GPIO.Green"
}

// jsonFields lists the fields of a struct as encoding/json names them: the
// json tag's name, or the Go name without one; fields tagged "-" and
// unexported fields are not in the file. A struct-valued field is listed
// itself and then its own fields, prefixed with its name.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	var walk func(t reflect.Type, prefix, goPrefix string)
	walk = func(t reflect.Type, prefix, goPrefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" && tag == "-" {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, prefix, goPrefix) // promoted, as encoding/json does
				continue
			}
			if name == "" {
				name = f.Name
			}
			jf := jsonField{name: prefix + name, goPath: goPrefix + f.Name}
			out = append(out, jf)
			if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" {
				walk(ft, jf.name+".", jf.goPath+".")
			}
		}
	}
	walk(t, "", "")
	return out
}

// A docTarget is a struct or a command that a section of config.md documents.
type docTarget struct {
	marker string // what the section's heading holds: "`kiosk.Config`"
	source string // where the code is, for the messages: "kiosk/config.go"
}

// checkFields compares the rows of the section of doc headed by the
// target's marker with the struct's JSON fields and returns the problems,
// each saying what to add or remove where.
func checkFields(doc string, tg docTarget, typ reflect.Type) []string {
	sec, ok := section(doc, tg.marker)
	if !ok {
		return []string{fmt.Sprintf("docs/config.md: no heading names %s: add a section headed with %s and a table with one row per field of %s",
			tg.marker, tg.marker, tg.source)}
	}
	var problems []string
	documented := map[string]bool{}
	for _, n := range sec.rowNames() {
		if documented[n] {
			problems = append(problems, fmt.Sprintf("docs/config.md, section %q: field `%s` has two rows: keep one", sec.title, n))
		}
		documented[n] = true
	}
	fields := map[string]bool{}
	for _, f := range jsonFields(typ) {
		fields[f.name] = true
		if !documented[f.name] {
			problems = append(problems, fmt.Sprintf(
				"docs/config.md: %s field %q (Go: %s.%s in %s) is not documented: add the row \"| `%s` | type | default | example | flag | meaning |\" to the table under the heading %q",
				strings.Trim(tg.marker, "`"), f.name, typ.Name(), f.goPath, tg.source, f.name, sec.title))
		}
	}
	for _, n := range sec.rowNames() {
		if !fields[n] {
			problems = append(problems, fmt.Sprintf(
				"docs/config.md, section %q: row `%s` names no field of %s (%s): remove the row or correct its name",
				sec.title, n, strings.Trim(tg.marker, "`"), tg.source))
		}
	}
	return problems
}

// checkGoFieldNames checks a section about an internal struct: every row
// must name one of the struct's exported fields by its Go name.
func checkGoFieldNames(doc string, tg docTarget, typ reflect.Type) []string {
	sec, ok := section(doc, tg.marker)
	if !ok {
		return []string{fmt.Sprintf("docs/config.md: no heading names %s: add one saying which of its fields a file sets (%s)", tg.marker, tg.source)}
	}
	var problems []string
	rows := sec.rowNames()
	if len(rows) == 0 {
		problems = append(problems, fmt.Sprintf("docs/config.md, section %q: no table rows: list the fields of %s a file or the daemon sets", sec.title, tg.source))
	}
	for _, n := range rows {
		if f, ok := typ.FieldByName(n); !ok || !f.IsExported() {
			problems = append(problems, fmt.Sprintf(
				"docs/config.md, section %q: row `%s` names no field of %s (%s): remove the row or correct its name",
				sec.title, n, strings.Trim(tg.marker, "`"), tg.source))
		}
	}
	return problems
}

// checkFlags compares the flags named in the section headed by the
// command's marker with the flags the command defines.
func checkFlags(doc string, tg docTarget, flags map[string]string) []string {
	sec, ok := section(doc, tg.marker)
	if !ok {
		return []string{fmt.Sprintf("docs/config.md: no heading names %s: add a section headed with %s that names each of its flags", tg.marker, tg.marker)}
	}
	var problems []string
	mentioned := sec.flagMentions()
	for _, name := range sortedKeys(flags) {
		if _, ok := mentioned[name]; !ok {
			problems = append(problems, fmt.Sprintf(
				"docs/config.md: flag --%s of %s (defined at %s) is not documented: name it as `--%s` in the section %q — in the flag column of its field's row, or in the table of flags without a field",
				name, strings.Trim(tg.marker, "`"), flags[name], name, sec.title))
		}
	}
	for _, name := range sortedKeys(mentioned) {
		if _, ok := flags[name]; !ok && name != "help" && name != "h" {
			problems = append(problems, fmt.Sprintf(
				"docs/config.md, section %q: names `--%s`, which %s does not have (%s): remove it or correct it; the line: %s",
				sec.title, name, strings.Trim(tg.marker, "`"), tg.source, shorten(mentioned[name], 160)))
		}
	}
	return problems
}

// shorten cuts s to about n bytes for a message.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// flagMethods are the flag.FlagSet methods that define a flag: the index
// of the name argument and the number of arguments.
var flagMethods = map[string]struct{ nameArg, args int }{
	"String": {0, 3}, "Bool": {0, 3}, "Int": {0, 3}, "Int64": {0, 3}, "Uint": {0, 3},
	"Uint64": {0, 3}, "Float64": {0, 3}, "Duration": {0, 3}, "Func": {0, 3}, "BoolFunc": {0, 3},
	"StringVar": {1, 4}, "BoolVar": {1, 4}, "IntVar": {1, 4}, "Int64Var": {1, 4}, "UintVar": {1, 4},
	"Uint64Var": {1, 4}, "Float64Var": {1, 4}, "DurationVar": {1, 4}, "Var": {1, 3}, "TextVar": {1, 4},
}

// commandFlags reads the Go files of a command's package (dir, tests left
// out) and returns the flags that the function root defines, directly or
// through the functions and methods of the package it calls, each with
// the position of its definition. A flag defined under a name that is not
// a string literal is an error: the test could not see it.
func commandFlags(dir, root string) (map[string]string, error) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	funcs := map[string][]*ast.FuncDecl{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", p, err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				funcs[fd.Name.Name] = append(funcs[fd.Name.Name], fd)
			}
		}
	}
	if len(funcs[root]) == 0 {
		return nil, fmt.Errorf("%s: no function %s (renamed? update the docs test)", dir, root)
	}
	flags := map[string]string{}
	var errs []string
	visited := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if visited[name] {
			return
		}
		visited[name] = true
		for _, fd := range funcs[name] {
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var callee string
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					callee = fn.Name
				case *ast.SelectorExpr:
					callee = fn.Sel.Name
					if m, ok := flagMethods[callee]; ok && len(call.Args) == m.args {
						pos := fset.Position(call.Pos())
						where := fmt.Sprintf("%s:%d", strings.TrimPrefix(filepath.ToSlash(pos.Filename), "../"), pos.Line)
						lit, ok := call.Args[m.nameArg].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							errs = append(errs, fmt.Sprintf("%s: flag defined with a name that is not a string literal", where))
							return true
						}
						flagName, err := strconv.Unquote(lit.Value)
						if err != nil {
							errs = append(errs, fmt.Sprintf("%s: flag name %s: %v", where, lit.Value, err))
							return true
						}
						flags[flagName] = where
						return true
					}
				}
				if callee != "" && len(funcs[callee]) > 0 {
					visit(callee)
				}
				return true
			})
		}
	}
	visit(root)
	if len(errs) > 0 {
		return flags, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return flags, nil
}
