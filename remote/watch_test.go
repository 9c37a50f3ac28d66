package remote

import (
	"context"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
)

// testListAfter: ListAfter returns exactly the keys under the prefix that
// sort after the given one, in order.
func testListAfter(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	keys := []string{"la/events/001-a.json", "la/events/002-b.json", "la/events/003-c.json", "la/other"}
	for _, k := range keys {
		put(t, ctx, be, k, []byte(k))
	}
	for _, c := range []struct {
		after string
		want  []string
	}{
		{"la/events/", keys[:3]},
		{"la/events/001", keys[:3]},
		{"la/events/001-a.json", keys[1:3]},
		{"la/events/002", keys[1:3]},
		{"la/events/003-c.json", nil},
	} {
		objs, err := be.(eventLister).ListAfter(ctx, "la/events/", c.after)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.Key)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ListAfter(%q) = %q, want %q", c.after, got, c.want)
		}
	}
}

// eventLister is what a subscriber asks of a backend to poll events/.
type eventLister interface {
	ListAfter(ctx context.Context, prefix, after string) ([]ObjectInfo, error)
}

// testReadRefIfChanged: an unchanged ref is answered from what was read
// before; a moved one, a deleted one and a first read are read anew.
func testReadRefIfChanged(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	name := "refs/heads/watched"
	first, second := dag.ID{1}, dag.ID{2}
	if _, err := be.Swap(ctx, name, "", encodeRef(first)); err != nil {
		t.Fatal(err)
	}
	r1, err := ReadRefIfChanged(ctx, be, Ref{Name: name})
	if err != nil || r1.ID != first || r1.Tag == "" {
		t.Fatalf("first read: %+v, %v", r1, err)
	}
	if _, _, changed, err := be.(changeReader).GetIfChanged(ctx, name, r1.Tag, maxRefSize); err != nil || changed {
		t.Fatalf("GetIfChanged of an unchanged ref: changed %v, %v", changed, err)
	}
	same, err := ReadRefIfChanged(ctx, be, r1)
	if err != nil || same != r1 {
		t.Fatalf("unchanged: %+v, %v; want %+v", same, err, r1)
	}
	if _, err := be.Swap(ctx, name, r1.Tag, encodeRef(second)); err != nil {
		t.Fatal(err)
	}
	r2, err := ReadRefIfChanged(ctx, be, r1)
	if err != nil || r2.ID != second || r2.Tag == r1.Tag {
		t.Fatalf("moved: %+v, %v", r2, err)
	}
	if err := be.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	gone, err := ReadRefIfChanged(ctx, be, r2)
	if err != nil || !gone.ID.IsZero() {
		t.Fatalf("deleted: %+v, %v", gone, err)
	}
}
