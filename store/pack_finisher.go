package store

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/store/pack"
)

// packJob is a full pack on its way to the pack finisher, or (done != nil)
// a barrier that is closed once every job queued before it is complete.
type packJob struct {
	meta bool
	buf  *alignedBuf
	w    *pack.Writer
	done chan struct{}
}

// queuePack hands a job to the pack finisher, waiting while its queue is
// full (which bounds the packs held in memory). nil is ignored.
func (s *Store) queuePack(j *packJob) {
	if j != nil {
		s.finishQueue <- j
	}
}

// waitPacksFinished waits until every job queued so far is complete.
func (s *Store) waitPacksFinished() {
	done := make(chan struct{})
	s.finishQueue <- &packJob{done: done}
	<-done
}

// packFinisher completes packs in queue order, off the writers' path.
func (s *Store) packFinisher() {
	defer close(s.finisherDone)
	for j := range s.finishQueue {
		if j.done != nil {
			close(j.done)
			continue
		}
		if s.finishErr() != nil {
			// After a failure nothing more is indexed: later packs may
			// name objects of the failed one.
			s.dropPending(j.w.Entries())
			s.putPackBuf(j.buf)
			continue
		}
		if err := s.finishPack(j); err != nil {
			s.finishErrMu.Lock()
			s.finishFailure = err
			s.finishErrMu.Unlock()
		}
	}
}

// finishErr returns the pack finisher's first failure, which sticks.
func (s *Store) finishErr() error {
	s.finishErrMu.Lock()
	defer s.finishErrMu.Unlock()
	return s.finishFailure
}

// stopPackFinisher lets the pack finisher complete the queued packs and
// exit.
func (s *Store) stopPackFinisher() {
	s.stopOnce.Do(func() {
		close(s.finishQueue)
		<-s.finisherDone
	})
}

// finishPack writes the footer, writes the pack to a temporary file,
// fsyncs it, renames it into place, indexes it, and only then forgets its
// pending objects.
func (s *Store) finishPack(j *packJob) error {
	defer s.putPackBuf(j.buf)
	id, _, err := j.w.Finish()
	if err != nil {
		s.dropPending(j.w.Entries())
		return fmt.Errorf("store: finish pack: %w", err)
	}
	err = s.space.claim(int64(len(j.buf.b)))
	var tmp string
	if err == nil {
		tmp, err = writeFileDirect(filepath.Join(s.dir, tmpDir), j.buf)
	}
	final := s.packPath(id)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(filepath.Join(s.dir, packsDir))
	}
	if err == nil {
		err = s.indexPack(id, j.meta, j.w.Entries(), j.w.Size())
	}
	if err == nil && s.indexed != nil {
		s.indexed(j.meta, j.w.Entries())
	}
	s.dropPending(j.w.Entries())
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return fmt.Errorf("store: finish pack: %w", noSpace(err))
	}
	s.stats.PacksWritten.Add(1)
	return nil
}
