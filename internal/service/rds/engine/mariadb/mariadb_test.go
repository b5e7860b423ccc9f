package mariadb

import "testing"

func TestMySQLQuoting(t *testing.T) {
	for _, tc := range []struct{ in, s string }{
		{`it's`, `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{`p4ss`, `'p4ss'`},
	} {
		if got := mysqlString(tc.in); got != tc.s {
			t.Errorf("mysqlString(%q) = %s, want %s", tc.in, got, tc.s)
		}
	}
	if got := mysqlIdent("we`ird"); got != "`we``ird`" {
		t.Errorf("mysqlIdent = %s", got)
	}
}
