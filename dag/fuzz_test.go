package dag

import "testing"

// Each decoder must never panic, and whatever it accepts must re-encode to
// exactly the same bytes (the encoding is canonical).

func seed(f *testing.F, kind Kind) {
	for _, o := range sampleObjects(&testing.T{}) {
		if o.kind == kind {
			f.Add(o.data)
		}
	}
	f.Add(rawTree("..", "a"))
	f.Add([]byte{1, 0, 0})
}

func FuzzDecodeTreeNode(f *testing.F) {
	seed(f, KindTree)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeTreeNode(b)
		if err != nil {
			return
		}
		again, err := n.Encode()
		if err != nil {
			t.Fatalf("decoded node does not encode: %v", err)
		}
		if string(again) != string(b) {
			t.Fatalf("non-canonical encoding accepted")
		}
	})
}

func FuzzDecodeFileNode(f *testing.F) {
	seed(f, KindFile)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeFileNode(b)
		if err != nil {
			return
		}
		if string(n.Encode()) != string(b) {
			t.Fatalf("non-canonical encoding accepted")
		}
	})
}

func FuzzDecodeCommit(f *testing.F) {
	seed(f, KindCommit)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommit(b)
		if err != nil {
			return
		}
		again, err := c.Encode()
		if err != nil {
			t.Fatalf("decoded commit does not encode: %v", err)
		}
		if string(again) != string(b) {
			t.Fatalf("non-canonical encoding accepted")
		}
	})
}

func FuzzDecodeModel(f *testing.F) {
	seed(f, KindModel)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeModel(b)
		if err != nil {
			return
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded model does not encode: %v", err)
		}
		if string(again) != string(b) {
			t.Fatalf("non-canonical encoding accepted")
		}
	})
}

func FuzzDecodeStageMove(f *testing.F) {
	seed(f, KindStage)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeStageMove(b)
		if err != nil {
			return
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded stage move does not encode: %v", err)
		}
		if string(again) != string(b) {
			t.Fatalf("non-canonical encoding accepted")
		}
	})
}
