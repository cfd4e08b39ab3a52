package policy

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// evalCaches are the two caches OPA keeps during one evaluation: rule and
// function results (topdown.VirtualCache) and documents read from the
// store (topdown.BaseCache). OPA's own implementations allocate a trie of
// hash maps per evaluation: about 15% of the bytes a decision of the
// default bundle allocates, as BenchmarkDecide measured. These keep their
// memory in a pool and are emptied after every evaluation, so nothing is
// shared between decisions.
type evalCaches struct {
	virtual virtualCache
	base    baseCache
}

var evalCachePool = sync.Pool{New: func() any { return newEvalCaches() }}

func newEvalCaches() *evalCaches {
	c := &evalCaches{}
	c.virtual.Push()
	c.base.frame.reset()
	return c
}

// reset empties both caches and drops every reference into the last
// evaluation's values.
func (c *evalCaches) reset() {
	for c.virtual.top > 0 {
		c.virtual.Pop()
	}
	c.virtual.frames[0].reset()
	c.base.frame.reset()
}

// refTable maps refs to values with exact-match lookup. The refs are
// copied into terms, because OPA reuses the slices it passes in.
type refTable struct {
	index   map[int]int32
	entries []refEntry
	terms   []*ast.Term
}

type refEntry struct {
	ref       ast.Ref
	value     *ast.Term
	undefined bool
	// doc is the value of a baseCache entry.
	doc ast.Value
	// next is the index of an older entry with the same hash, or -1.
	next int32
}

func (t *refTable) reset() {
	if t.index == nil {
		t.index = map[int]int32{}
	}
	clear(t.index)
	clear(t.entries)
	t.entries = t.entries[:0]
	clear(t.terms)
	t.terms = t.terms[:0]
}

func hashRef(ref ast.Ref) int {
	h := 0
	for _, term := range ref {
		h = h*31 + term.Value.Hash()
	}
	return h
}

func (t *refTable) find(ref ast.Ref, hash int) *refEntry {
	i, ok := t.index[hash]
	if !ok {
		return nil
	}
	for i >= 0 {
		e := &t.entries[i]
		if e.ref.Equal(ref) {
			return e
		}
		i = e.next
	}
	return nil
}

func (t *refTable) insert(ref ast.Ref, hash int) *refEntry {
	start := len(t.terms)
	t.terms = append(t.terms, ref...)
	stored := ast.Ref(t.terms[start:len(t.terms):len(t.terms)])

	next, ok := t.index[hash]
	if !ok {
		next = -1
	}
	t.index[hash] = int32(len(t.entries))
	t.entries = append(t.entries, refEntry{ref: stored, next: next})
	return &t.entries[len(t.entries)-1]
}

// virtualCache implements topdown.VirtualCache with a stack of refTables.
// OPA pushes a frame while a `with` statement replaces input or data, so
// results computed under the replacement do not leak out of it.
type virtualCache struct {
	frames []refTable
	top    int
}

var _ topdown.VirtualCache = (*virtualCache)(nil)

func (c *virtualCache) Push() {
	if len(c.frames) == 0 {
		c.frames = append(c.frames, refTable{})
		c.frames[0].reset()
		return
	}
	c.top++
	if c.top == len(c.frames) {
		c.frames = append(c.frames, refTable{})
	}
	c.frames[c.top].reset()
}

func (c *virtualCache) Pop() {
	c.frames[c.top].reset()
	c.top--
}

// Get returns the cached value of ref. The flag is true when ref was
// recorded as undefined; nil and false mean it is not cached.
func (c *virtualCache) Get(ref ast.Ref) (*ast.Term, bool) {
	e := c.frames[c.top].find(ref, hashRef(ref))
	if e == nil {
		return nil, false
	}
	if e.undefined {
		return nil, true
	}
	return e.value, false
}

// Put records the value of ref, or that ref is undefined when value is
// nil.
func (c *virtualCache) Put(ref ast.Ref, value *ast.Term) {
	frame := &c.frames[c.top]
	h := hashRef(ref)
	e := frame.find(ref, h)
	if e == nil {
		e = frame.insert(ref, h)
	}
	if value != nil {
		e.value = value
	} else {
		e.undefined = true
	}
}

// Keys returns the refs with a cached value in the active frame.
func (c *virtualCache) Keys() []ast.Ref {
	var keys []ast.Ref
	for _, e := range c.frames[c.top].entries {
		if e.value != nil {
			keys = append(keys, e.ref.Copy())
		}
	}
	return keys
}

// baseCache implements topdown.BaseCache. Like OPA's own, it looks up a
// ref below a cached ref inside the cached value.
type baseCache struct {
	frame refTable
}

var _ topdown.BaseCache = (*baseCache)(nil)

// Get returns the value at ref, found in the value cached for ref or for
// its shortest cached prefix, or nil.
func (c *baseCache) Get(ref ast.Ref) ast.Value {
	h := 0
	for i, term := range ref {
		h = h*31 + term.Value.Hash()
		e := c.frame.find(ref[:i+1], h)
		if e == nil {
			continue
		}
		result, err := e.doc.Find(ref[i+1:])
		if err != nil {
			return nil
		}
		return result
	}
	return nil
}

func (c *baseCache) Put(ref ast.Ref, value ast.Value) {
	h := hashRef(ref)
	e := c.frame.find(ref, h)
	if e == nil {
		e = c.frame.insert(ref, h)
	}
	e.doc = value
}
