package workload

import (
	"errors"
	"hash/fnv"
	"sync"
)

// IDRange is a range of the host's user and group IDs a workload's user
// namespace maps its own 0…Size-1 to.
type IDRange struct {
	Base, Size int
}

// IDs hands out ranges of host IDs to workloads with a user namespace of
// their own: 65,536 IDs each (a whole Linux system's), from 2^30 up, so
// that no two running workloads share an ID on the host — one cannot
// signal, trace or read another's files by ID — and none maps to a user of
// the host. The data workloads keep on the host stays owned by root (their
// trees are idmapped; see package sandbox), so a range is needed only while
// a workload runs, and ranges are not kept across restarts. Each minicloud
// starts its search at a slot hashed from its cgroup prefix, so that two on
// one host rarely meet.
type IDs struct {
	mu    sync.Mutex
	start int
	owner map[int]string // slot → workload
}

const (
	idsBase  = 1 << 30
	idsSize  = 1 << 16
	idsSlots = (1<<31 - idsBase) / idsSize // up to 2^31: IDs stay positive int32
)

func newIDs(prefix string) *IDs {
	h := fnv.New32a()
	h.Write([]byte(prefix))
	return &IDs{start: int(h.Sum32() % idsSlots), owner: map[int]string{}}
}

// Reserve returns owner's range (the same one while it holds it).
func (ids *IDs) Reserve(owner string) (IDRange, error) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	for slot, o := range ids.owner {
		if o == owner {
			return IDRange{Base: idsBase + slot*idsSize, Size: idsSize}, nil
		}
	}
	for i := range idsSlots {
		slot := (ids.start + i) % idsSlots
		if ids.owner[slot] == "" {
			ids.owner[slot] = owner
			return IDRange{Base: idsBase + slot*idsSize, Size: idsSize}, nil
		}
	}
	return IDRange{}, errors.New("workload: no free range of user IDs")
}

// Release gives owner's range back.
func (ids *IDs) Release(owner string) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	for slot, o := range ids.owner {
		if o == owner {
			delete(ids.owner, slot)
		}
	}
}
