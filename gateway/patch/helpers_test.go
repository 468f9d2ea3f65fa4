package patch

import (
	"errors"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
)

func asStatus(err error, se **kerrors.StatusError) bool { return errors.As(err, se) }
