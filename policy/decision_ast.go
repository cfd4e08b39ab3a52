package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decodeDecision converts the OPA value the query produced into a
// Decision, as encoding/json decodes the value's JSON form with unknown
// fields disallowed. Decisions whose fields all have their documented
// types are read straight from the OPA value, which saves a JSON encode
// and decode per request. Anything else (null, sets, unknown fields, wrong
// types) goes through encoding/json, so the result and the error message
// are the same either way. FuzzDecodeDecision compares the two paths.
func decodeDecision(v ast.Value) (Decision, error) {
	if d, err := decodeDecisionValue(v); err == nil {
		return d, nil
	}
	return decodeDecisionJSON(v)
}

func decodeDecisionJSON(v ast.Value) (Decision, error) {
	generic, err := ast.JSON(v)
	if err != nil {
		return Decision{}, fmt.Errorf("converting policy decision to JSON: %w", err)
	}
	raw, err := json.Marshal(generic)
	if err != nil {
		return Decision{}, fmt.Errorf("encoding policy decision: %w", err)
	}

	var d Decision
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// errNotPlain stops the direct decoding of a decision that only
// encoding/json can decode exactly.
var errNotPlain = errors.New("decision needs JSON decoding")

// decodeDecisionValue reads a decision whose fields all have their
// documented types, and returns errNotPlain for anything else.
func decodeDecisionValue(v ast.Value) (Decision, error) {
	var d Decision

	obj, ok := v.(ast.Object)
	if !ok {
		return d, errNotPlain
	}
	err := obj.Iter(func(k, v *ast.Term) error {
		key, ok := k.Value.(ast.String)
		if !ok {
			return errNotPlain
		}

		var err error
		switch key {
		case "action":
			d.Action, err = plainString(v)
		case "provider":
			d.Provider, err = plainString(v)
		case "model":
			d.Model, err = plainString(v)
		case "template":
			d.Template, err = plainString(v)
		case "reasons":
			d.Reasons, err = plainStrings(v)
		case "status":
			d.Status, err = plainInt(v)
		case "headers":
			d.Headers, err = plainStringMap(v)
		case "redact":
			d.Redact, err = plainRedact(v)
		case "response_redact":
			d.ResponseRedact, err = plainResponseRedact(v)
		default:
			err = errNotPlain
		}
		return err
	})
	return d, err
}

func plainRedact(t *ast.Term) (*Redact, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return nil, errNotPlain
	}

	r := &Redact{}
	err := obj.Iter(func(k, v *ast.Term) error {
		var err error
		switch k.Value {
		case ast.String("types"):
			r.Types, err = plainStrings(v)
		case ast.String("operator"):
			r.Operator, err = plainString(v)
		default:
			err = errNotPlain
		}
		return err
	})
	return r, err
}

func plainResponseRedact(t *ast.Term) (*ResponseRedact, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return nil, errNotPlain
	}

	r := &ResponseRedact{}
	err := obj.Iter(func(k, v *ast.Term) error {
		if k.Value != ast.String("types") {
			return errNotPlain
		}
		var err error
		r.Types, err = plainStrings(v)
		return err
	})
	return r, err
}

// plainString reads a string. Invalid UTF-8 is left to encoding/json,
// which replaces it with U+FFFD.
func plainString(t *ast.Term) (string, error) {
	s, ok := t.Value.(ast.String)
	if !ok || !utf8.ValidString(string(s)) {
		return "", errNotPlain
	}
	return string(s), nil
}

func plainInt(t *ast.Term) (int, error) {
	n, ok := t.Value.(ast.Number)
	if !ok {
		return 0, errNotPlain
	}
	i, ok := n.Int()
	if !ok {
		return 0, errNotPlain
	}
	return i, nil
}

func plainStrings(t *ast.Term) ([]string, error) {
	arr, ok := t.Value.(*ast.Array)
	if !ok {
		return nil, errNotPlain
	}

	out := make([]string, arr.Len())
	for i := range out {
		s, err := plainString(arr.Elem(i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func plainStringMap(t *ast.Term) (map[string]string, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return nil, errNotPlain
	}

	out := make(map[string]string, obj.Len())
	err := obj.Iter(func(k, v *ast.Term) error {
		key, err := plainString(k)
		if err != nil {
			return err
		}
		value, err := plainString(v)
		if err != nil {
			return err
		}
		out[key] = value
		return nil
	})
	return out, err
}
