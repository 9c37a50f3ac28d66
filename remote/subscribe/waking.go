package subscribe

import (
	"context"
	"time"
)

// eventsPrefix is where a push writes one object per ref it moves.
const eventsPrefix = "events/"

// notifiedPeriod is the least time between two reads of the refs when
// notifications wake the subscriber: they are hints, and a lost one (or a
// dropped listener) delays a head by at most this long.
const notifiedPeriod = 30 * time.Second

// notifier is a remote whose server tells of objects created under a
// prefix (the S3 backend on MinIO). Listen returns an error where the
// server does not offer it; the channel then wakes the subscriber on news,
// and once the listener is back after a drop.
type notifier interface {
	Listen(ctx context.Context, prefix string) (<-chan struct{}, error)
}

// listen starts the notification listener where the remote offers one;
// the subscriber polls without it. It fixes how long sleep waits.
func (s *subscriber) listen(ctx context.Context) {
	s.period = s.o.Interval
	n, ok := s.be.(notifier)
	if !ok || s.o.Once {
		return
	}
	wakes, err := n.Listen(ctx, eventsPrefix)
	if err != nil {
		s.notifyErr = err
		return
	}
	s.wakes = wakes
	s.period = max(s.o.Interval, notifiedPeriod)
}
