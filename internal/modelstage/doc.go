// Package modelstage moves a model's stages (production, staging, …)
// between its versions and reads their history.
//
// Nouns:
//   - Stage: a name given to one version of a model at a time, spelled
//     like one component of a ref name, not all digits (NAME@2 is a
//     version, NAME@production a stage).
//   - Move: a dag.StageMove, one move of a stage to a version or off every
//     version (a demotion), naming the move before it.
//   - Ref: refs/stages/MODEL/STAGE names a stage's latest move. It is a
//     plain ref, so push --all, fetch, clone and replication carry it, and
//     its moves travel as objects: the history goes wherever the stage
//     goes. A stage's history is linear: a move that descends from the
//     remote's is a fast-forward, anything else a non-fast-forward.
//
// A stage moves only by compare-and-swap of its ref after its move is
// stored, so a crash leaves it where it was, and a caller that names the
// version it expects (Request.Expect) learns of a concurrent move instead
// of overwriting it.
package modelstage
