"""Pure business rules of PPAS: no I/O, time and money passed in explicitly."""
