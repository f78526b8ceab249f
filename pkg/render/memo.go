package render

import (
	"container/list"
	"sync"
)

// memo is a small LRU of render results by input digest. Values are never mutated after
// being stored: callers get deep copies.
type memo struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type memoEntry struct {
	key string
	val any
}

func newMemo(max int) *memo {
	return &memo{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (m *memo) get(key string) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.items[key]; ok {
		m.ll.MoveToFront(e)
		return e.Value.(*memoEntry).val, true
	}
	return nil, false
}

func (m *memo) put(key string, val any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.items[key]; ok {
		e.Value.(*memoEntry).val = val
		m.ll.MoveToFront(e)
		return
	}
	m.items[key] = m.ll.PushFront(&memoEntry{key: key, val: val})
	for m.ll.Len() > m.max {
		last := m.ll.Back()
		m.ll.Remove(last)
		delete(m.items, last.Value.(*memoEntry).key)
	}
}
