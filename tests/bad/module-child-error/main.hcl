# A local module with a mistake inside it: the diagnostic points into the module's own file,
# where its annotation is.

module "orders-db" {
  source = "./postgres"
  name   = "orders-db"
  iops   = 24000
}
