package secretmask

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func secret(data map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "data": data}
}

func TestMask(t *testing.T) {
	s := secret(map[string]any{"password": "aHVudGVyMg==", "user": "YWRtaW4="})
	s["stringData"] = map[string]any{"token": "t0ps3cret"}
	Mask(s)
	want := secret(map[string]any{"password": Masked, "user": Masked})
	want["stringData"] = map[string]any{"token": Masked}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("Mask (-want +got):\n%s", d)
	}
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"k": "v"}}
	Mask(cm)
	if cm["data"].(map[string]any)["k"] != "v" {
		t.Error("Mask changed a ConfigMap")
	}
	crd := map[string]any{"apiVersion": "example.com/v1", "kind": "Secret", "data": map[string]any{"k": "v"}}
	Mask(crd)
	if crd["data"].(map[string]any)["k"] != "v" {
		t.Error("Mask changed a custom resource of kind Secret")
	}
}

func TestMaskPair(t *testing.T) {
	cases := []struct {
		name                string
		before, after       map[string]any
		wantBefore, wantAft map[string]any
	}{
		{
			name:       "unchanged, changed, added and removed keys",
			before:     secret(map[string]any{"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}),
			after:      secret(map[string]any{"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}),
			wantBefore: secret(map[string]any{"same": Masked, "changed": Masked, "gone": Removed}),
			wantAft:    secret(map[string]any{"same": Masked, "changed": Changed, "new": Added}),
		},
		{
			name:    "create",
			after:   secret(map[string]any{"k": "dg=="}),
			wantAft: secret(map[string]any{"k": Added}),
		},
		{
			name:       "delete",
			before:     secret(map[string]any{"k": "dg=="}),
			wantBefore: secret(map[string]any{"k": Removed}),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			MaskPair(tc.before, tc.after)
			if d := cmp.Diff(tc.wantBefore, tc.before); d != "" {
				t.Errorf("before (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantAft, tc.after); d != "" {
				t.Errorf("after (-want +got):\n%s", d)
			}
		})
	}
}
