package lease

import (
	"os"
	"testing"

	"github.com/addonsync/addonsync/internal/testenv"
)

// env is the real kube-apiserver + etcd shared by every test of this package.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }
