"""Journal service: the electronic journal of every transaction, cash and open/close log."""
