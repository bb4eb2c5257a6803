package generator

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stdDecode is encoding/json's reading of b, which parseJSON must match.
func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errJSON
	}
	return v, nil
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	docs := []string{`{}`, `[]`, `{"a":1,"b":[true,false,null,"x\n\"y\u00e9\ud83d\ude00",-1.5e3,0]}`, `"\u2028"`, ` {"nested":{"k":{"k":[[],{}]}}} `}
	for _, extra := range []string{"", "  commonAnnotations: {a: \"<html> & ✓\", b: \"quote\\\"s\"}\n"} {
		for _, o := range generate(t, stack(t, extra)) {
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
	}
	for _, d := range docs {
		want, err := stdDecode([]byte(d))
		if err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		got, err := parseJSON([]byte(d))
		if err != nil {
			t.Fatalf("parseJSON(%.80s): %v", d, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parseJSON differs (-encoding/json +parseJSON):\n%s", diff)
		}
	}
}

// FuzzParseJSON: on any input, parseJSON agrees with encoding/json: the
// same value, or both refuse.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,"b",null]}`, `"x\u0041"`, `1e5`, `-0.0`, `{"a":1}x`, `[1,]`, `"\ud800"`, `1e700`, `[-1E-400]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := stdDecode(b)
		got, gerr := parseJSON(b)
		if (werr == nil) != (gerr == nil) {
			// parseJSON reads only what json.Marshal writes: it may refuse
			// more (invalid UTF-8 that encoding/json would replace), never less.
			if werr != nil {
				t.Fatalf("parseJSON accepted what encoding/json refuses (%v): %q", werr, b)
			}
			if json.Valid(b) && bytes.Equal(b, bytes.ToValidUTF8(b, nil)) {
				t.Fatalf("parseJSON refused valid JSON: %q", b)
			}
			return
		}
		if werr == nil {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%q: (-encoding/json +parseJSON):\n%s", b, diff)
			}
		}
	})
}
