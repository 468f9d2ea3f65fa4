package body

import (
	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/kubejson"
)

func marshal(m proto.Message) ([]byte, error) { return kubejson.Marshal(m) }
