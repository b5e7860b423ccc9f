package iampolicy

import (
	"fmt"
	"testing"
)

const (
	acct  = "111122223333"
	other = "444455556666"
)

func user(name string) Principal {
	return Principal{Type: User, ARN: "arn:aws:iam::" + acct + ":user/" + name, Account: acct,
		Username: name, UserID: "AIDAEXAMPLE" + name}
}

func session(role, name string) Principal {
	return Principal{Type: AssumedRole, ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + name,
		RoleARN: "arn:aws:iam::" + acct + ":role/" + role, Account: acct, UserID: "AROAEXAMPLE:" + name}
}

func root(account string) Principal {
	return Principal{Type: Root, ARN: "arn:aws:iam::" + account + ":root", Account: account, UserID: account}
}

func otherUser(name string) Principal {
	p := user(name)
	p.ARN, p.Account = "arn:aws:iam::"+other+":user/"+name, other
	return p
}

// pol parses an identity-style document (or a resource one when kind says
// so), failing the test on error.
func pol(t testing.TB, kind Kind, name, doc string) *Policy {
	t.Helper()
	p, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse(%s): %v\n%s", name, err, doc)
	}
	p.Name = name
	return p
}

// allowDoc is an identity policy of one Allow statement.
func allowDoc(action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":%q,"Resource":%q}]}`, action, resource)
}

func denyDoc(action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Action":%q,"Resource":%q}]}`, action, resource)
}

// resDoc is a resource policy of one statement.
func resDoc(effect, principal, action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":%q,"Principal":%s,"Action":%q,"Resource":%q}]}`, effect, principal, action, resource)
}
