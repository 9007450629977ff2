// Package ofproto is the OpenFlow switch model: bridges, their ports and
// OpenFlow tables of rules, groups and meters, and the translation (xlate) of
// a packet through those tables into datapath actions and a megaflow mask
// (OVS's ofproto and ofproto-dpif-xlate). It is independent of any wire
// format: the OpenFlow codec (package ofp) and OVSDB configure it through
// plain Go values.
package ofproto
