package store

// The pack buffers: a data pack is built in a buffer of its full size,
// mapped in huge pages where the system allows, and recycled once its pack
// is finished, so that after warm-up no data pack buffer is allocated.
// Data pack buffers in use are at most one per data packer, one queued,
// one being finished and one waiting to be queued: the recycling channel
// holds that many.
const packBufsKept = maxDataPackers + 3

// getPackBuf returns an empty pack buffer: a recycled one for data packs.
func (s *Store) getPackBuf(meta bool) *alignedBuf {
	if !meta {
		select {
		case b := <-s.packBufs:
			return b
		default:
		}
		return newHugeBuf(int(s.opts.PackSize) + 1<<20)
	}
	return newAlignedBuf(1 << 20)
}

// putPackBuf recycles a data pack buffer once nothing refers to it, or
// frees it.
func (s *Store) putPackBuf(b *alignedBuf) {
	if b == nil {
		return
	}
	if b.reset(); cap(b.b) < int(s.opts.PackSize) {
		b.free()
		return
	}
	select {
	case s.packBufs <- b:
	default:
		b.free()
	}
}

// freePackBufs releases the recycled pack buffers (when the store closes).
func (s *Store) freePackBufs() {
	for {
		select {
		case b := <-s.packBufs:
			b.free()
		default:
			return
		}
	}
}
