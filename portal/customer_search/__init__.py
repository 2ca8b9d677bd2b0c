"""Finding a vendor's customers: the name-word index and the search that the customer list, the key forms'
customer picker and the Web API share (below both customers and keys, which each use it)."""
