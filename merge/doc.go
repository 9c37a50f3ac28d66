// Package merge is where the three-way merge of trees and the row-level
// diff and merge of tables go (issue 3). It holds no code yet: dx has no
// merge command today.
package merge
