// Package models embeds seqcast's default model bundles in the binary.
//
// gold/ is the trained gold-price CNN-Bi-LSTM (see gold/README.md, the model
// card): `seqcast serve` with no flags serves it under the model name
// "gold".
package models
