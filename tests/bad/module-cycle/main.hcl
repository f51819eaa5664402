# The root calls ./tenant, and the tenant module calls its parent back: loading would never
# end. The cycle is a problem of the whole module tree, so it has no location.
# expect-nowhere: error module::cycle

module "tenant" {
  source = "./tenant"
  name   = "acme"
}
