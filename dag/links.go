package dag

// Link names an object and its kind, as another object refers to it.
type Link struct {
	ID   ID
	Kind Kind
}

// Links decodes an encoded object of the given kind and returns the
// objects it names, in encoding order: a commit's tree then (when parents
// is true) its parents; a tree node's children and entries; a file node's
// children and chunks; a model's artifact, data commits and previous
// version; a stage move's model version and previous move. A chunk names
// nothing.
func Links(kind Kind, b []byte, parents bool) ([]Link, error) {
	var out []Link
	switch kind {
	case KindChunk:
		return nil, nil
	case KindCommit:
		c, err := DecodeCommit(b)
		if err != nil {
			return nil, err
		}
		out = append(out, Link{c.Tree, KindTree})
		if parents {
			for _, p := range c.Parents {
				out = append(out, Link{p, KindCommit})
			}
		}
	case KindTree:
		n, err := DecodeTreeNode(b)
		if err != nil {
			return nil, err
		}
		for _, c := range n.Children {
			out = append(out, Link{c.ID, KindTree})
		}
		for _, e := range n.Entries {
			out = append(out, Link{e.ID, e.Mode.ObjectKind()})
		}
	case KindFile:
		n, err := DecodeFileNode(b)
		if err != nil {
			return nil, err
		}
		out = make([]Link, 0, len(n.Children)+len(n.Chunks))
		for _, c := range n.Children {
			out = append(out, Link{c.ID, KindFile})
		}
		for _, c := range n.Chunks {
			out = append(out, Link{c.ID, KindChunk})
		}
	case KindModel:
		m, err := DecodeModel(b)
		if err != nil {
			return nil, err
		}
		out = append(out, Link{m.Artifact, m.ArtifactKind})
		for _, d := range m.Data {
			out = append(out, Link{d.Commit, KindCommit})
		}
		if !m.Previous.IsZero() {
			out = append(out, Link{m.Previous, KindModel})
		}
	case KindStage:
		m, err := DecodeStageMove(b)
		if err != nil {
			return nil, err
		}
		if !m.Version.IsZero() {
			out = append(out, Link{m.Version, KindModel})
		}
		if !m.Previous.IsZero() {
			out = append(out, Link{m.Previous, KindStage})
		}
	default:
		return nil, corrupt("object of unknown kind %s", kind)
	}
	return out, nil
}
