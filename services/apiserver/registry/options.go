package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/services/apiserver/watchcache"
)

// parseRV parses a resourceVersion: "" and "0" are 0; anything else must be a positive
// decimal integer.
func parseRV(path *field.Path, rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, kerrors.NewBadRequest(field.Invalid(path, rv, "must be a non-negative decimal integer (an etcd revision)").Error())
	}
	return n, nil
}

// predicate builds the selection of a List or Watch, refusing selectors that do not parse and
// field selectors on fields the resource does not support.
func (s *Store[T]) predicate(namespace, labelSel, fieldSel string) (watchcache.Predicate, error) {
	p := watchcache.Predicate{Namespace: namespace}
	if labelSel != "" {
		sel, err := labels.Parse(labelSel)
		if err != nil {
			return p, kerrors.NewBadRequest(fmt.Sprintf("labelSelector: Invalid value: %q: %v", labelSel, err))
		}
		p.Label = sel
	}
	if fieldSel != "" {
		sel, err := fields.ParseSelector(fieldSel)
		if err != nil {
			return p, kerrors.NewBadRequest(fmt.Sprintf("fieldSelector: Invalid value: %q: %v", fieldSel, err))
		}
		for _, r := range sel.Requirements() {
			if r.Field != "metadata.name" && r.Field != "metadata.namespace" && !slices.Contains(s.strategy.FieldLabels(), r.Field) {
				return p, kerrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", r.Field))
			}
		}
		p.Field = sel
	}
	return p, nil
}

// continueToken is the opaque continue value of a paginated list, in Kubernetes' format.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

func encodeContinue(rev int64, startKey string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: rev, StartKey: startKey})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, kerrors.NewBadRequest(fmt.Sprintf("continue key is not valid: %v", err))
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, kerrors.NewBadRequest(fmt.Sprintf("continue key is not valid: %v", err))
	}
	if t.APIVersion != "meta.k8s.io/v1" || t.ResourceVersion <= 0 || t.StartKey == "" {
		return t, kerrors.NewBadRequest("continue key is not valid: incorrect encoded start key or resourceVersion")
	}
	return t, nil
}
