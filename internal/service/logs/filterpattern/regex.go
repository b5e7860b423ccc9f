package filterpattern

import (
	"fmt"
	"regexp"
)

// regex is a %regex% term.
type regex struct{ re *regexp.Regexp }

func compileRegex(src string) (*regex, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("Invalid regular expression '%s'", src)
	}
	return &regex{re: re}, nil
}

func (r *regex) find(s string) bool { return r.re.MatchString(s) }
