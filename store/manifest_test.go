package store

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"google.golang.org/protobuf/proto"
)

func writeTestManifest(t *testing.T, dir string, sets ...[]*pb.ManifestChange) {
	t.Helper()
	b := []byte{'B', 'd', 'g', 'r', 0, 0, 0, 8}
	for _, cs := range sets {
		rec, err := proto.Marshal(&pb.ManifestChangeSet{Changes: cs})
		if err != nil {
			t.Fatal(err)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(rec)))
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(rec, crcTable))
		b = append(b, rec...)
	}
	if err := os.WriteFile(filepath.Join(dir, manifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func create(id uint64, level uint32) *pb.ManifestChange {
	return &pb.ManifestChange{Id: id, Op: pb.ManifestChange_CREATE, Level: level}
}

func del(id uint64) *pb.ManifestChange {
	return &pb.ManifestChange{Id: id, Op: pb.ManifestChange_DELETE}
}

// liveTables replays the MANIFEST in dir.
func liveTables(t *testing.T, dir string) []uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	sets, err := readChangeSets(b[manifestHeader:])
	if err != nil {
		t.Fatal(err)
	}
	live := map[uint64]bool{}
	for _, s := range sets {
		for _, c := range s.Changes {
			live[c.Id] = c.Op == pb.ManifestChange_CREATE
		}
	}
	var out []uint64
	for id, ok := range live {
		if ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TestRepairManifest: a change set adding a table whose file is gone is
// dropped whole (a failed flush; a failed compaction, whose inputs live
// again); nothing is rewritten when nothing is missing, or when dropping
// sets cannot account for a missing table.
func TestRepairManifest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []uint64
		sets    [][]*pb.ManifestChange
		fixed   bool
		want    []uint64
		wantErr bool
	}{
		{"nothing missing", []uint64{1, 2}, [][]*pb.ManifestChange{{create(1, 0)}, {create(2, 0)}}, false, []uint64{1, 2}, false},
		{"failed flush", []uint64{1, 3}, [][]*pb.ManifestChange{{create(1, 0)}, {create(2, 0)}, {create(3, 0)}}, true, []uint64{1, 3}, false},
		{"failed compaction", []uint64{1, 2, 4}, [][]*pb.ManifestChange{{create(1, 0)}, {create(2, 0)}, {create(3, 1), del(1), del(2)}, {create(4, 0)}}, true, []uint64{1, 2, 4}, false},
		{"compaction retried", []uint64{4, 5}, [][]*pb.ManifestChange{{create(1, 0)}, {create(2, 0)}, {create(3, 1), del(1), del(2)}, {create(5, 1), del(1), del(2)}, {create(4, 0)}}, true, []uint64{4, 5}, false},
		{"compacted away", []uint64{2}, [][]*pb.ManifestChange{{create(1, 0)}, {create(2, 1), del(1)}}, false, []uint64{2}, false},
		{"input gone too", []uint64{2}, [][]*pb.ManifestChange{{create(1, 0)}, {create(3, 1), del(1)}, {create(2, 0)}}, false, []uint64{2, 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, id := range tc.files {
				if err := os.WriteFile(table.NewFilename(id, dir), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			writeTestManifest(t, dir, tc.sets...)
			fixed, err := repairManifest(dir)
			if (err != nil) != tc.wantErr || fixed != tc.fixed {
				t.Fatalf("repairManifest: %v, %v; want fixed %v, error %v", fixed, err, tc.fixed, tc.wantErr)
			}
			if got := liveTables(t, dir); !slices.Equal(got, tc.want) {
				t.Fatalf("live tables %v, want %v", got, tc.want)
			}
		})
	}
}
