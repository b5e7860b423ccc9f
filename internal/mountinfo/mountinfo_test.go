package mountinfo

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Mount
		wantErr  bool
	}{
		{
			name: "root and a shared bind with optional fields",
			in: "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
				"68 27 0:40 /ns /run/minicloud/netns rw,relatime shared:1 master:3 - tmpfs t rw\n",
			want: []Mount{{ID: 27, Parent: 1, Point: "/"}, {ID: 68, Parent: 27, Point: "/run/minicloud/netns", Shared: true}},
		},
		{
			name: "escaped space, backslash and a trailing backslash",
			in:   `70 27 0:4 net:[4026532175] /run/a\040b\134c\ rw - nsfs nsfs rw` + "\n",
			want: []Mount{{ID: 70, Parent: 27, Point: `/run/a b\c\`}},
		},
		{name: "no separator", in: "1 2 0:1 / / rw shared:1 ext4\n", wantErr: true},
		{name: "too short", in: "1 2 0:1 /\n", wantErr: true},
		{name: "bad id", in: "x 2 0:1 / / rw - ext4 a rw\n", wantErr: true},
		{name: "empty", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// This process's own mount table parses, and has a root.
func TestRead(t *testing.T) {
	ms, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ms, func(m Mount) bool { return m.Point == "/" }) {
		t.Errorf("no mount on / in %+v", ms)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("68 27 0:40 /ns /run/minicloud/netns rw,relatime shared:1 - tmpfs t rw\n"))
	f.Add([]byte(`70 27 0:4 net:[1] /a\040b\1 rw - nsfs nsfs rw`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := Parse(b)
		if err != nil && ms != nil {
			t.Fatalf("mounts %v with error %v", ms, err)
		}
	})
}
