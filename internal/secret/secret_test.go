package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	v := New([]byte("hunter2-planted"))
	wrapped := struct {
		P   Value
		Ptr *Value
	}{v, &v}
	outs := []string{
		fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v),
		fmt.Sprintf("%v %+v %#v", wrapped, wrapped, wrapped),
	}
	j, err := json.Marshal(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	for _, o := range outs {
		if strings.Contains(o, "hunter2") || strings.Contains(o, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if string(v.Bytes()) != "hunter2-planted" || v.Len() != 15 {
		t.Errorf("Bytes/Len wrong")
	}
}
