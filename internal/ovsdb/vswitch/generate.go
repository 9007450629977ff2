// Package vswitch holds the libovsdb models of the Open_vSwitch database,
// generated from the schema copied here from openvswitch-common, so that
// builds do not depend on the installed package. Regenerate after copying a
// newer /usr/share/openvswitch/vswitch.ovsschema.
package vswitch

//go:generate go run github.com/ovn-kubernetes/libovsdb/cmd/modelgen -p vswitch -o . vswitch.ovsschema

import _ "embed"

// SchemaFile is vswitch.ovsschema, the schema the models were generated from;
// govs creates conf.db from it so the database always matches the models.
//
//go:embed vswitch.ovsschema
var SchemaFile []byte
