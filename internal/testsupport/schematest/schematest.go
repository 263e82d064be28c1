// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package schematest keeps a component's config.schema.yaml in step with its
// Go configuration struct: every mapstructure key of the struct is in the
// schema and every key of the schema is in the struct, at every level of the
// project's own types. The schema follows the format of the collector's
// components (top-level object, $defs, allOf for squashed structs, $ref to a
// local definition, to "/internal/pkg.name" for one of this repository's
// packages, or to "module/path/pkg.name" for another module's).
package schematest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/schematest"

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// ModulePath is this repository's module: types from its packages are
// checked field by field; others only by their key and $ref.
const ModulePath = "github.com/otelcol-auth0/otelcol-auth0"

// SchemaFile is the name of a package's schema, beside its config.go.
const SchemaFile = "config.schema.yaml"

// Node is one schema object, as written in the file.
type Node struct {
	Ref         string           `yaml:"$ref"`
	Description string           `yaml:"description"`
	Type        string           `yaml:"type"`
	Format      string           `yaml:"format"`
	CustomType  string           `yaml:"x-customType"`
	Pointer     bool             `yaml:"x-pointer"`
	Optional    bool             `yaml:"x-optional"`
	Properties  map[string]*Node `yaml:"properties"`
	Items       *Node            `yaml:"items"`
	AllOf       []*Node          `yaml:"allOf"`
	Defs        map[string]*Node `yaml:"$defs"`
}

// Check fails t when the schema in dir (a package directory, relative to the
// test's working directory) and the struct cfg points to differ.
func Check(t *testing.T, dir string, cfg any) {
	t.Helper()
	diffs, err := Diff(dir, cfg)
	require.NoError(t, err)
	for _, d := range diffs {
		t.Error(d)
	}
}

// Diff lists what differs between the schema in dir and the struct cfg
// points to; the error is for a schema that cannot be read.
func Diff(dir string, cfg any) ([]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	c := &checker{root: root, files: map[string]*Node{}}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	top, err := c.load(abs)
	if err != nil {
		return nil, err
	}
	c.object(abs, "", reflect.TypeOf(cfg), top)
	return c.errs, nil
}

type checker struct {
	root  string
	files map[string]*Node
	errs  []string
}

func (c *checker) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *checker) load(dir string) (*Node, error) {
	if n, ok := c.files[dir]; ok {
		return n, nil
	}
	path := filepath.Join(dir, SchemaFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var n Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.files[dir] = &n
	return &n, nil
}

// resolve follows a $ref written in the schema of dir: a local definition,
// a definition of one of this repository's packages ("/internal/pkg.name"),
// or another module's ("go.opentelemetry.io/.../pkg.name"), which is not
// read (external is true).
func (c *checker) resolve(dir, ref string) (node *Node, nodeDir string, external bool, err error) {
	if !strings.Contains(ref, ".") && !strings.Contains(ref, "/") {
		top, err := c.load(dir)
		if err != nil {
			return nil, "", false, err
		}
		def, ok := top.Defs[ref]
		if !ok {
			return nil, "", false, fmt.Errorf("%s: $ref %q: no such definition in $defs", dir, ref)
		}
		return def, dir, false, nil
	}
	if !strings.HasPrefix(ref, "/") {
		return nil, "", true, nil
	}
	i := strings.LastIndex(ref, ".")
	if i < 0 {
		return nil, "", false, fmt.Errorf("$ref %q: want /path/pkg.name", ref)
	}
	refDir := filepath.Join(c.root, filepath.FromSlash(ref[1:i]))
	top, err := c.load(refDir)
	if err != nil {
		return nil, "", false, fmt.Errorf("$ref %q: %w", ref, err)
	}
	def, ok := top.Defs[ref[i+1:]]
	if !ok {
		return nil, "", false, fmt.Errorf("$ref %q: no such definition in %s", ref, filepath.Join(refDir, SchemaFile))
	}
	return def, refDir, false, nil
}

// object compares a struct type with a schema object: its own properties
// and those of the objects it takes in with allOf.
func (c *checker) object(dir, at string, typ reflect.Type, n *Node) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		c.fail("%s: %s is not a struct", where(at), typ)
		return
	}
	keys := map[string]reflect.StructField{}
	var squashed []reflect.Type
	collectKeys(typ, keys, &squashed, func(format string, args ...any) { c.fail(where(at)+": "+format, args...) })

	props := map[string]*Node{}
	propDirs := map[string]string{}
	var externalRefs []string
	c.gather(dir, at, n, props, propDirs, &externalRefs)

	var wantRefs []string
	for _, sq := range squashed {
		want := refName(sq)
		wantRefs = append(wantRefs, want)
		if !slices.Contains(externalRefs, want) {
			c.fail("%s: the squashed %s wants allOf $ref %q in the schema", where(at), sq, want)
		}
	}
	for _, ref := range externalRefs {
		if !slices.Contains(wantRefs, ref) {
			c.fail("%s: allOf $ref %q is no squashed field of %s", where(at), ref, typ)
		}
	}
	for _, key := range sortedKeys(keys) {
		if _, ok := props[key]; !ok {
			c.fail("%s: key %q of %s is not in the schema", where(at), key, typ)
		}
	}
	for _, key := range sortedKeys(props) {
		field, ok := keys[key]
		if !ok {
			c.fail("%s: schema property %q is no key of %s", where(at), key, typ)
			continue
		}
		c.property(propDirs[key], join(at, key), field.Type, props[key])
	}
}

// gather collects the properties of n and of its allOf objects (following
// this repository's $refs); allOf $refs to other modules are listed.
func (c *checker) gather(dir, at string, n *Node, props map[string]*Node, propDirs map[string]string, externalRefs *[]string) {
	if n.Ref != "" {
		def, defDir, external, err := c.resolve(dir, n.Ref)
		switch {
		case err != nil:
			c.fail("%s: %v", where(at), err)
		case external:
			*externalRefs = append(*externalRefs, n.Ref)
		default:
			c.gather(defDir, at, def, props, propDirs, externalRefs)
		}
	}
	for key, p := range n.Properties {
		if _, dup := props[key]; dup {
			c.fail("%s: property %q is defined twice", where(at), key)
		}
		props[key] = p
		propDirs[key] = dir
	}
	for _, part := range n.AllOf {
		c.gather(dir, at, part, props, propDirs, externalRefs)
	}
}

// property checks one key's schema against its field's type: the project's
// own structs are compared key by key, another module's type must be a
// $ref or name its x-customType, and plain values have their JSON type.
func (c *checker) property(dir, at string, typ reflect.Type, n *Node) {
	pointer := false
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
		pointer = true
	}
	if pointer && n.Ref == "" && !n.Pointer && !n.Optional {
		c.fail("%s: %s is a pointer: want x-pointer: true", where(at), typ)
	}
	if own(typ) && typ.Kind() == reflect.Struct {
		c.object(dir, at, typ, n)
		return
	}
	if n.Ref != "" {
		if _, _, _, err := c.resolve(dir, n.Ref); err != nil {
			c.fail("%s: %v", where(at), err)
		}
		return
	}
	if typ == reflect.TypeFor[time.Duration]() {
		if n.Type != "string" || n.Format != "duration" {
			c.fail("%s: a time.Duration wants type: string, format: duration", where(at))
		}
		return
	}
	if typ.PkgPath() != "" && typ.Kind() == reflect.Struct {
		if n.CustomType != typ.PkgPath()+"."+typ.Name() {
			c.fail("%s: %s wants a $ref or x-customType: %s.%s", where(at), typ, typ.PkgPath(), typ.Name())
		}
		return
	}
	want := jsonType(typ)
	if want != "" && n.Type != want {
		c.fail("%s: %s wants type: %s, has %q", where(at), typ, want, n.Type)
	}
	if typ.Kind() == reflect.Slice && n.Items != nil {
		c.property(dir, at+"[]", typ.Elem(), n.Items)
	}
}

// collectKeys lists the mapstructure keys of a struct type, descending into
// the project's own squashed structs; other modules' squashed structs are
// listed apart, as the schema names them by $ref.
func collectKeys(typ reflect.Type, keys map[string]reflect.StructField, squashed *[]reflect.Type, fail func(string, ...any)) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("mapstructure")
		if !ok {
			fail("field %s.%s has no mapstructure tag", typ, f.Name)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" && strings.Contains(opts, "squash") {
			ft := f.Type
			if own(ft) {
				collectKeys(ft, keys, squashed, fail)
			} else {
				*squashed = append(*squashed, ft)
			}
			continue
		}
		keys[name] = f
	}
}

func own(typ reflect.Type) bool {
	return typ.PkgPath() == ModulePath || strings.HasPrefix(typ.PkgPath(), ModulePath+"/")
}

// refName is how the collector's schemas name a type of another module:
// its package path, a dot, its name in snake case.
func refName(typ reflect.Type) string {
	return typ.PkgPath() + "." + snake(typ.Name())
}

func snake(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(runes[i-1]) || (i+1 < len(runes) && unicode.IsLower(runes[i+1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func jsonType(typ reflect.Type) string {
	switch typ.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map:
		return "object"
	default:
		return ""
	}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module "+ModulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

func where(at string) string {
	if at == "" {
		return SchemaFile
	}
	return SchemaFile + " " + at
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
