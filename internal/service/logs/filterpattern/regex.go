package filterpattern

import (
	"fmt"
	"regexp"
	"strings"
)

// maxRegexes is how many %regex% a JSON or space-delimited pattern may
// hold (AWS's quota; unstructured patterns are held to it too).
const maxRegexes = 2

// regex is a %regex% term or value in AWS's restricted subset: letters,
// digits, the symbols : _ # = @ / ; , - and blanks, the operators
// ^ $ ? [ ] { } | \ * + . and the classes \d \D \s \S \w \W. Parentheses
// (sub-patterns) and multi-byte characters are refused, as AWS refuses
// them; a match is anywhere in the text, as %AUTHORIZED% matches
// "UNAUTHORIZED".
type regex struct{ re *regexp.Regexp }

const regexSymbols = ":_#=@/;,- \t^$?[]{}|*+."

func compileRegex(src string) (*regex, error) {
	if src == "" {
		return nil, fmt.Errorf("Invalid regular expression %%%s%%: empty", src)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c >= 0x80:
			return nil, fmt.Errorf("Invalid regular expression %%%s%%: multi-byte characters are not supported", src)
		case isAlnum(c) || strings.IndexByte(regexSymbols, c) >= 0:
		case c == '\\':
			if i+1 == len(src) {
				return nil, fmt.Errorf("Invalid regular expression %%%s%%: trailing backslash", src)
			}
			i++
			e := src[i]
			if isAlnum(e) && strings.IndexByte("dDsSwW", e) < 0 || e == '(' || e == ')' || e >= 0x80 {
				return nil, fmt.Errorf("Invalid regular expression %%%s%%: unsupported escape \\%c", src, e)
			}
		default:
			return nil, fmt.Errorf("Invalid regular expression %%%s%%: unsupported character '%c'", src, c)
		}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("Invalid regular expression %%%s%%: %s", src, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return &regex{re: re}, nil
}

func (r *regex) find(s string) bool { return r.re.MatchString(s) }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
