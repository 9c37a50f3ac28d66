// Package remote is where push, pull, fetch and clone to S3-compatible
// stores and plain directories go (issue 4). It holds no code yet: dx has
// no remotes today.
package remote
