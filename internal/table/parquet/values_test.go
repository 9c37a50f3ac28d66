package parquet

import (
	"context"
	"strings"
	"testing"
)

// TestLogicalTypes: every logical type comes out as JSON as a user reads
// it, for an added row.
func TestLogicalTypes(t *testing.T) {
	data := writeFile(t, []rec{mkRec(6, 0), mkRec(5, 0)}, 100, 1<<10)
	d, err := Diff(context.Background(), []string{"id"}, source(t, nil), source(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changes) != 2 {
		t.Fatalf("%d changes, want 2", len(d.Changes))
	}
	got := map[string]string{}
	for _, c := range d.Changes {
		var b strings.Builder
		for i, col := range c.New.Cols {
			b.WriteString(col + "=" + c.New.Vals[i] + "\n")
		}
		got[c.Key] = b.String()
	}
	want6 := `id=6
name="name 6, \"quoted\""
ts="2024-01-02T03:04:05.009Z"
local="2023-11-14T22:13:20.006"
day="2020-03-06"
price=-41.78
big=-1329227995784915872903807060280344.570
tags=[]
addr={"city":"c6","zip":6}
score=0.75
attrs={"a":1}
u="00000000-0000-0000-0000-000000000006"
flag=true
small=60006
`
	if got["6"] != want6 {
		t.Errorf("row 6:\n%s\nwant\n%s", got["6"], want6)
	}
	want5 := `id=5
name=null
ts="2024-01-02T03:04:05.0075Z"
local="2023-11-14T22:13:20.005"
day="2020-03-05"
price=-43.15
big=-1329227995784915872903807060280344.571
tags=["t5","u2"]
addr=null
score=null
attrs={"a":0}
u="00000000-0000-0000-0000-000000000005"
flag=false
small=60005
`
	if got["5"] != want5 {
		t.Errorf("row 5:\n%s\nwant\n%s", got["5"], want5)
	}
}
