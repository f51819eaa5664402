# A spec saved in Latin-1 by an editor: "Müller" is not UTF-8, so berth cannot read the
# file at all.
# expect-nowhere: error io::read

environment "demo" {
  owner       = "k.müller@example.internal"
  ttl         = "24h"
  description = "Customer demo for Müller AG"
}
