package remote

import (
	"context"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7/pkg/notification"
)

// notifyProbe is how long Listen waits for the server to refuse bucket
// notifications before taking them as offered.
const notifyProbe = time.Second

// Listen wakes the caller on each object created under prefix, through
// MinIO's bucket notifications. It returns an error where the server does
// not offer them (AWS S3 and most S3-compatible stores). A dropped
// connection is reopened with back-off until ctx ends; the notifications
// lost meanwhile are the caller's to catch up on. The channel holds at
// most one pending wake: several events before a read are one wake.
func (b *s3Backend) Listen(ctx context.Context, prefix string) (<-chan struct{}, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	events := []string{string(notification.ObjectCreatedAll)}
	listen := func(ctx context.Context) <-chan notification.Info {
		return b.client.ListenBucketNotification(ctx, b.bucket, b.object(prefix), "", events)
	}
	first, cancelFirst := context.WithCancel(ctx)
	infos := listen(first)
	select {
	case info, ok := <-infos:
		if !ok || info.Err != nil {
			cancelFirst()
			return nil, fmt.Errorf("remote %s: bucket notifications: %w", b, notifyErr(info.Err))
		}
	case <-time.After(notifyProbe):
	case <-ctx.Done():
		cancelFirst()
		return nil, ctx.Err()
	}
	wakes := make(chan struct{}, 1)
	wake := func() {
		select {
		case wakes <- struct{}{}:
		default:
		}
	}
	// An event read during the probe, or one missed before it, is caught
	// up by one read of the refs.
	wake()
	go func() {
		defer cancelFirst()
		delay := time.Second
		for {
			for info := range infos {
				if info.Err != nil {
					break
				}
				delay = time.Second
				if len(info.Records) > 0 {
					wake()
				}
			}
			cancelFirst()
			if ctx.Err() != nil {
				return
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			delay = min(2*delay, 30*time.Second)
			first, cancelFirst = context.WithCancel(ctx)
			infos = listen(first)
			// What was created while the listener was down is caught up
			// by reading the refs once it is back.
			wake()
		}
	}()
	return wakes, nil
}

// notifyErr names a listener that ended without saying why.
func notifyErr(err error) error {
	if err == nil {
		return fmt.Errorf("connection closed")
	}
	return err
}
