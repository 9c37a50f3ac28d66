package store

// GC of derived data: a cache entry computed from objects gc removes, or
// in an encoding no longer read, is of no use; without this, derived
// data would only grow.

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/dxdata/dx/dag"
)

// DerivedNames says which stored objects the keys of a derived table
// name (the chunks and files its values were computed from), for gc.
type DerivedNames struct {
	Prefix byte
	// Files: the table keeps its values in files (DerivedFiles).
	Files bool
	// Names calls fn with each object key names; false: the key is of
	// no use any more (an encoding no longer read).
	Names func(key []byte, fn func(id dag.ID)) bool
}

// DerivedReport says what gc dropped of derived data (or would drop).
type DerivedReport struct {
	DerivedDropped int   `json:"derived_entries_dropped"`
	DerivedFreed   int64 `json:"derived_bytes_freed"`
}

// rewriteBelow: a file of derived values whose entries hold less than
// this share of its bytes is rewritten with only theirs.
const rewriteBelow = 0.5

// gcDerived drops the entries of table dn that name an object not in
// live, that dn calls of no use, or, of a table in files, whose file is
// gone; a table in files then deletes the files no entry names, and
// rewrites those mostly dead. A crash part way
// loses cache entries at worst: a value is written again before its
// entry moves, and a file goes once no entry names it.
func (s *Store) gcDerived(ctx context.Context, dn DerivedNames, live map[dag.ID]struct{}, dryRun bool) (DerivedReport, error) {
	var rep DerivedReport
	ix, err := s.Derived(dn.Prefix)
	if err != nil {
		return rep, err
	}
	var d *DerivedFiles
	files := map[uint64]os.FileInfo{} // a table in files': by name
	if dn.Files {
		if d, err = s.DerivedFiles(dn.Prefix); err != nil {
			return rep, err
		}
		defer d.Close()
		if files, err = d.files(); err != nil {
			return rep, err
		}
	}
	var dead []string
	kept := map[uint64][]keptValue{} // by file
	err = ix.Scan(ctx, func(key, value []byte) error {
		alive := true
		ok := dn.Names(key, func(id dag.ID) {
			if _, in := live[id]; !in {
				alive = false
			}
		}) && alive
		var loc fileLoc
		if dn.Files {
			var parsed bool
			loc, parsed = parseLoc(value)
			if _, there := files[loc.file]; !parsed || !there {
				ok = false // not a location, or its file is gone
			}
		}
		if !ok {
			dead = append(dead, string(key))
		} else if dn.Files {
			kept[loc.file] = append(kept[loc.file], keptValue{key: string(key), loc: loc})
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	rep.DerivedDropped = len(dead)
	if !dryRun {
		if err := ix.Delete(ctx, dead); err != nil {
			return rep, err
		}
	}
	for file, info := range files {
		var liveBytes int64
		for _, v := range kept[file] {
			liveBytes += int64(v.loc.length)
		}
		if liveBytes > 0 && liveBytes >= int64(rewriteBelow*float64(info.Size())) {
			continue // (an empty file, which no entry names, goes)
		}
		rep.DerivedFreed += info.Size() - liveBytes
		if dryRun {
			continue
		}
		if len(kept[file]) > 0 {
			if err := d.moveValues(ctx, kept[file]); err != nil {
				return rep, err
			}
		}
		if err := os.Remove(d.path(file)); err != nil && !os.IsNotExist(err) {
			return rep, err
		}
	}
	return rep, nil
}

// files are the table's files of values, by name.
func (d *DerivedFiles) files() (map[uint64]os.FileInfo, error) {
	es, err := os.ReadDir(d.dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	out := map[uint64]os.FileInfo{}
	for _, e := range es {
		name, err := strconv.ParseUint(e.Name(), 16, 64)
		info, ierr := e.Info()
		if err == nil && ierr == nil && info.Mode().IsRegular() && e.Name() == fmt.Sprintf("%016x", name) {
			out[name] = info
		}
	}
	return out, nil
}

// keptValue is a live entry of a derived table in files.
type keptValue struct {
	key string
	loc fileLoc
}

// moveValues appends the values of vs, all in one file, to d's own file
// and points their entries there; a value that no longer reads as its
// entry says is dropped with its entry.
func (d *DerivedFiles) moveValues(ctx context.Context, vs []keptValue) error {
	locs := make([]fileLoc, len(vs))
	for i, v := range vs {
		locs[i] = v.loc
		locs[i].i = i
	}
	sortLocs(locs)
	var keys []string
	var values [][]byte
	got := make([]bool, len(vs))
	d.readFile(locs, nil, func(i int, value []byte) {
		keys, values = append(keys, vs[i].key), append(values, append([]byte(nil), value...))
		got[i] = true
	})
	if err := d.Put(ctx, keys, values); err != nil {
		return err
	}
	var lost []string
	for i, ok := range got {
		if !ok {
			lost = append(lost, vs[i].key)
		}
	}
	return d.ix.Delete(ctx, lost)
}
