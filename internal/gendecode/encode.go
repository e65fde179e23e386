package gendecode

import (
	"fmt"
	"go/ast"
	"go/format"
	"strconv"
)

// GenerateEncoders reads the package in dir and returns the formatted source of its request
// encoders: for each type of Requests, an appender of what json.Marshal writes for it, in the
// fields' order, omitempty as json reads it, strings escaped by appendJSONString.
func GenerateEncoders(dir string) ([]byte, error) {
	g, err := newGen(dir)
	if err != nil {
		return nil, err
	}
	g.printf("package probonus\n\nimport \"strconv\"\n\n")
	g.printf("// appendRequest appends what json.Marshal writes for in, when in is a request type with a\n")
	g.printf("// generated encoder (or a pointer to one), and reports whether it is.\n")
	g.printf("func appendRequest(b []byte, in any) ([]byte, bool) {\n\tswitch v := in.(type) {\n")
	for _, t := range Requests {
		fn, err := g.encoder(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		g.printf("\tcase %s:\n\t\treturn %s(b, &v), true\n", t, fn)
		g.printf("\tcase *%s:\n\t\tif v == nil {\n\t\t\treturn append(b, \"null\"...), true\n\t\t}\n\t\treturn %s(b, v), true\n", t, fn)
	}
	g.printf("\t}\n\treturn b, false\n}\n")
	for len(g.queue) > 0 {
		f := g.queue[0]
		g.queue = g.queue[1:]
		if err := f(); err != nil {
			return nil, err
		}
	}
	b, err := format.Source(g.out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting: %w\n%s", err, g.out.Bytes())
	}
	return b, nil
}

func (g *gen) encoder(t string) (string, error) {
	st, ok := g.src.structs[t]
	if !ok {
		return "", fmt.Errorf("%s is not a struct of the package", t)
	}
	fn := "append" + t
	if !g.done[fn] {
		g.done[fn] = true
		g.queue = append(g.queue, func() error { return g.encodeObject(fn, t, st) })
	}
	return fn, nil
}

func (g *gen) encodeObject(fn, name string, st *ast.StructType) error {
	fs, err := g.fields(name, st)
	if err != nil {
		return err
	}
	g.printf("\n// %s appends what json.Marshal writes for v.\n", fn)
	g.printf("func %s(b []byte, v *%s) []byte {\n", fn, name)
	// A comma goes before every member but the first written; with omitted fields before it, the
	// first written is known only at run time.
	g.printf("\tb = append(b, '{')\n\tn := len(b)\n\t_ = n\n")
	for _, f := range fs {
		if f.omitZero {
			return fmt.Errorf("%s.%s: omitzero, which the encoder does not write", name, f.goName)
		}
		x := "v." + f.goName
		write, empty, err := g.encodeValue(f.typ, x)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", name, f.goName, err)
		}
		member := fmt.Sprintf("if len(b) > n {\nb = append(b, ',')\n}\nb = append(b, %s...)\n%s", strconv.Quote(strconv.Quote(f.jsonName)+":"), write)
		if f.omitEmpty && empty != "" {
			g.printf("\tif !(%s) {\n%s\n}\n", empty, member)
		} else {
			g.printf("\t%s\n", member)
		}
	}
	g.printf("\treturn append(b, '}')\n}\n")
	return nil
}

// encodeValue returns the statements that append the value of type t at x, and the condition
// under which omitempty leaves it out ("" when it never does: a struct).
func (g *gen) encodeValue(t ast.Expr, x string) (write, empty string, err error) {
	switch t := t.(type) {
	case *ast.Ident:
		switch t.Name {
		case "int64":
			return fmt.Sprintf("b = strconv.AppendInt(b, %s, 10)", x), x + " == 0", nil
		case "int":
			return fmt.Sprintf("b = strconv.AppendInt(b, int64(%s), 10)", x), x + " == 0", nil
		case "bool":
			return fmt.Sprintf("b = strconv.AppendBool(b, %s)", x), "!" + x, nil
		case "string":
			return fmt.Sprintf("b = appendJSONString(b, %s)", x), x + ` == ""`, nil
		case "Amount":
			return fmt.Sprintf("b = appendAmount(b, %s)", x), "", nil
		case "Date":
			return fmt.Sprintf("b = appendDate(b, %s)", x), "", nil
		}
		if g.src.strings[t.Name] {
			return fmt.Sprintf("b = appendJSONString(b, string(%s))", x), x + ` == ""`, nil
		}
		if _, ok := g.src.structs[t.Name]; ok && !g.src.unmarshaler[t.Name] {
			fn, err := g.encoder(t.Name)
			if err != nil {
				return "", "", err
			}
			return fmt.Sprintf("b = %s(b, &%s)", fn, x), "", nil
		}
	case *ast.StarExpr:
		w, _, err := g.encodeValue(t.X, "(*"+x+")")
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("if %s == nil {\nb = append(b, \"null\"...)\n} else {\n%s\n}", x, w), x + " == nil", nil
	case *ast.ArrayType:
		if t.Len != nil {
			break
		}
		w, _, err := g.encodeValue(t.Elt, x+"[i]")
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("if %[1]s == nil {\nb = append(b, \"null\"...)\n} else {\nb = append(b, '[')\nfor i := range %[1]s {\nif i > 0 {\nb = append(b, ',')\n}\n%[2]s\n}\nb = append(b, ']')\n}", x, w), "len(" + x + ") == 0", nil
	}
	return "", "", fmt.Errorf("a field of type %s, which the encoder does not write", types(t))
}
