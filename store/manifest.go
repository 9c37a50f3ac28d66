package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"google.golang.org/protobuf/proto"
)

// The index's MANIFEST (badger's log of the table files it holds) can be
// left naming a table file that is gone: badger appends the change set
// that adds a new table, the fsync of the MANIFEST fails (EIO), badger
// removes the table and writes it again under another id, but the failed
// record stays in the file (or its page cache). The next open then fails
// with "file does not exist for table N". repairManifest mends that.

const (
	manifestName    = "MANIFEST"
	manifestRewrite = "MANIFEST-REWRITE"
	manifestHeader  = 8 // "Bdgr", external magic, badger's format version
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errMissingTable is how badger's open says a MANIFEST names a table file
// that is gone (it has no sentinel).
const errMissingTable = "file does not exist for table"

// repairManifest drops from the MANIFEST of index directory dir each
// change set that adds a table whose file is gone (and that no later set
// removes), whole, as if it had never been written: a set that failed is
// then undone, the tables it would have replaced live again. It rewrites
// the MANIFEST only if the result names no missing table, and reports
// whether it did.
func repairManifest(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil || len(b) < manifestHeader {
		return false, err
	}
	sets, err := readChangeSets(b[manifestHeader:])
	if err != nil {
		return false, err
	}
	present, err := tableFiles(dir)
	if err != nil {
		return false, err
	}
	created, deleted := map[uint64]int{}, map[uint64]int{}
	for i, set := range sets {
		for _, c := range set.Changes {
			if c.Op == pb.ManifestChange_CREATE {
				created[c.Id] = i
			} else {
				deleted[c.Id] = i
			}
		}
	}
	bad := map[int]bool{}
	for id, i := range created {
		if d, ok := deleted[id]; !present[id] && (!ok || d < i) {
			bad[i] = true
		}
	}
	if len(bad) == 0 {
		return false, nil
	}
	live := map[uint64]*pb.ManifestChange{}
	for i, set := range sets {
		if bad[i] {
			continue
		}
		for _, c := range set.Changes {
			if c.Op == pb.ManifestChange_CREATE {
				live[c.Id] = c
			} else {
				delete(live, c.Id)
			}
		}
	}
	ids := make([]uint64, 0, len(live))
	for id := range live {
		if !present[id] {
			return false, fmt.Errorf("index MANIFEST: table %d is gone and no record can be dropped to account for it", id)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := &pb.ManifestChangeSet{}
	for _, id := range ids {
		out.Changes = append(out.Changes, live[id])
	}
	return true, writeManifest(dir, b[:manifestHeader], out)
}

// readChangeSets parses the MANIFEST's records: length, CRC, change set.
// A torn last record is left out, as badger leaves it.
func readChangeSets(b []byte) ([]*pb.ManifestChangeSet, error) {
	var sets []*pb.ManifestChangeSet
	for len(b) >= 8 {
		n := binary.BigEndian.Uint32(b[:4])
		if uint64(n) > uint64(len(b)-8) {
			break
		}
		rec := b[8 : 8+n]
		if crc32.Checksum(rec, crcTable) != binary.BigEndian.Uint32(b[4:8]) {
			return nil, errors.New("index MANIFEST: a record fails its checksum")
		}
		var set pb.ManifestChangeSet
		if err := proto.Unmarshal(rec, &set); err != nil {
			return nil, fmt.Errorf("index MANIFEST: %w", err)
		}
		sets = append(sets, &set)
		b = b[8+n:]
	}
	return sets, nil
}

// tableFiles lists the ids of the table files in dir.
func tableFiles(dir string) (map[uint64]bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		if id, ok := table.ParseFileID(e.Name()); ok {
			out[id] = true
		}
	}
	return out, nil
}

// writeManifest replaces the MANIFEST by one holding header and set, as
// badger rewrites it: a new file, synced, renamed over, the directory
// synced.
func writeManifest(dir string, header []byte, set *pb.ManifestChangeSet) error {
	rec, err := proto.Marshal(set)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(header)
	var lc [8]byte
	binary.BigEndian.PutUint32(lc[:4], uint32(len(rec)))
	binary.BigEndian.PutUint32(lc[4:], crc32.Checksum(rec, crcTable))
	buf.Write(lc[:])
	buf.Write(rec)
	return replaceFile(filepath.Join(dir, manifestRewrite), filepath.Join(dir, manifestName), buf.Bytes())
}
