"""One construct per Azure service, with AVM-shaped props (see ``stacks.interfaces``)."""
