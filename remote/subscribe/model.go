package subscribe

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/modelstage"
)

// A subscriber follows a model's stage (--model NAME@STAGE) as it follows
// a branch: its remote ref (refs/stages/NAME/STAGE) is read on each wake,
// and on each move the stage's moves and the version it is on are
// fetched, the artifact is checked out into a directory of its own and
// the command runs once, with the same exactly-once cursor, kept under
// the key "model:NAME@STAGE".

// modelKey marks a followed stage among the followed branches (a colon
// is never in a branch name).
const modelKey = "model:"

// ModelKey is the key a stage NAME@STAGE is followed, kept and retried
// under.
func ModelKey(spec string) string { return modelKey + spec }

// parseModelKey returns the model and stage of a key, if it is a stage's.
func parseModelKey(key string) (model, stage string, ok bool) {
	spec, ok := strings.CutPrefix(key, modelKey)
	if !ok {
		return "", "", false
	}
	model, stage, ok = strings.Cut(spec, "@")
	return model, stage, ok
}

// checkModelSpec checks a --model NAME@STAGE.
func checkModelSpec(spec string) error {
	model, stage, ok := strings.Cut(spec, "@")
	if !ok || model == "" {
		return fmt.Errorf("subscribe: --model %q: want NAME@STAGE", spec)
	}
	if _, err := strconv.ParseUint(stage, 10, 64); err == nil {
		return fmt.Errorf("subscribe: --model %q: a version never moves; follow a stage (NAME@production)", spec)
	}
	if err := modelstage.ValidName(stage); err != nil {
		return fmt.Errorf("subscribe: --model %q: %w", spec, err)
	}
	return nil
}

// refOf is the remote ref a followed key reads.
func refOf(key string) string {
	if model, stage, ok := parseModelKey(key); ok {
		return modelstage.Ref(model, stage)
	}
	return "refs/heads/" + key
}

// prepareModel fetches the stage's move head and what it names, and
// checks the version the stage is on out into a new directory, which it
// returns (also on error, to be removed), with the command's environment
// for it. A stage taken off every version (demoted) gives an empty
// DX_MODEL_DIR.
func (s *subscriber) prepareModel(ctx context.Context, key string, head dag.ID) (dir string, env []string, err error) {
	model, stage, _ := parseModelKey(key)
	err = s.open(ctx, func(r Repo) error {
		st, err := r.FetchStage(ctx, s.remote, model, stage)
		if err != nil {
			return err
		}
		if dir, err = s.runDir(); err != nil {
			return err
		}
		env = []string{"DX_MODEL=" + model, "DX_STAGE=" + stage, "DX_MODEL_DIR=", "DX_MODEL_VERSION=", "DX_MODEL_ID="}
		if st.Version == nil {
			return nil // demoted: no version, no artifact
		}
		artifact := filepath.Join(dir, "model")
		// By the stage: FetchStage moved the local stage ref (the model's
		// own ref may still be behind).
		mv, _, err := r.ModelCheckout(ctx, model+"@"+stage, artifact)
		if err != nil {
			return err
		}
		env = []string{"DX_MODEL=" + model, "DX_STAGE=" + stage, "DX_MODEL_DIR=" + artifact,
			"DX_MODEL_VERSION=" + strconv.FormatUint(mv.Version, 10), "DX_MODEL_ID=" + mv.ID.String()}
		return nil
	})
	return dir, env, err
}
