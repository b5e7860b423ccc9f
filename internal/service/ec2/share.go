package ec2

import (
	"slices"

	"github.com/minicloud/minicloud/internal/state"
)

// Sharing across accounts: a snapshot's createVolumePermission and an
// image's launchPermission name accounts (or the group "all") that may use
// a resource stored in its owner's scope. Records are scoped per account,
// so each shared resource also has an entry in a region-wide index (the
// pseudo-account sharedAccount) naming its owner and grantees; another
// account's lookups by ID, and its Describe calls, go through the index
// to the owner's record. The owner's record stays the truth; the index is
// rewritten in the same transaction as every change of the permissions.

// sharedAccount is the scope account of the sharing index; it cannot be a
// real account ID (those are 12 digits).
const sharedAccount = "shared"

// shareEntry says who owns a shared resource and who may use it.
type shareEntry struct {
	Owner  string   `json:"owner"`
	Users  []string `json:"users,omitempty"`
	Public bool     `json:"public,omitempty"`
}

var (
	sharedSnapshots = state.Table[shareEntry]{Service: "ec2", Kind: "shared-snapshot"}
	sharedImages    = state.Table[shareEntry]{Service: "ec2", Kind: "shared-image"}
)

func sharedScope(region string) state.Scope {
	return state.Scope{Account: sharedAccount, Region: region}
}

// allows reports whether account may use the resource.
func (e shareEntry) allows(account string) bool {
	return e.Public || slices.Contains(e.Users, account)
}

// shareSync writes (or removes, when nobody is granted) id's index entry.
func shareSync(t *rtx, table state.Table[shareEntry], id string, e shareEntry) error {
	sc := sharedScope(t.scope.Region)
	if !e.Public && len(e.Users) == 0 {
		if _, ok, err := table.Get(t.tx, sc, id); err != nil || !ok {
			return err
		}
		return table.Delete(t.tx, sc, id)
	}
	return table.Put(t.tx, sc, id, e)
}

// shareOwner gives the scope of the account that shared id with the
// caller; ok is false when id is not shared with it.
func shareOwner(t *rtx, table state.Table[shareEntry], id string) (*rtx, bool, error) {
	e, ok, err := table.Get(t.tx, sharedScope(t.scope.Region), id)
	if err != nil || !ok || e.Owner == t.scope.Account || !e.allows(t.scope.Account) {
		return nil, false, err
	}
	owner := *t
	owner.scope = state.Scope{Account: e.Owner, Region: t.scope.Region}
	return &owner, true, nil
}

// sharedWithCaller lists the IDs other accounts shared with the caller.
func sharedWithCaller(t *rtx, table state.Table[shareEntry]) (map[string]*rtx, error) {
	out := map[string]*rtx{}
	err := table.ForEach(t.tx, sharedScope(t.scope.Region), func(id string, e shareEntry) error {
		if e.Owner != t.scope.Account && e.allows(t.scope.Account) {
			owner := *t
			owner.scope = state.Scope{Account: e.Owner, Region: t.scope.Region}
			out[id] = &owner
		}
		return nil
	})
	return out, err
}

// grant is one sharing permission: an account (user) or the group "all".
type grant struct{ user, group string }

// grantChanges gathers a Modify…Attribute's permission changes in its two
// forms: Add/Remove lists (add, remove), or OperationType with user IDs and
// groups. Each grant is checked: a 12-digit account (badUser's error) or
// the group "all" (badGroup's).
func grantChanges(add, remove []grant, users, groups []string, op string, badUser, badGroup func(string) error) ([]grant, []grant, error) {
	var listed []grant
	for _, u := range users {
		listed = append(listed, grant{user: u})
	}
	for _, g := range groups {
		listed = append(listed, grant{group: g})
	}
	if len(listed) > 0 {
		switch op {
		case "add":
			add = append(add, listed...)
		case "remove":
			remove = append(remove, listed...)
		case "":
			return nil, nil, errMissingParam("operationType")
		default:
			return nil, nil, errInvalidParam("Value (%s) for parameter operationType is invalid.", op)
		}
	}
	for _, g := range slices.Concat(add, remove) {
		switch {
		case g.group != "" && g.group != "all":
			return nil, nil, badGroup(g.group)
		case g.group == "" && !imageAccountRE.MatchString(g.user):
			return nil, nil, badUser(g.user)
		}
	}
	return add, remove, nil
}
