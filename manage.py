#!/usr/bin/env python3
from entraide.__main__ import main

if __name__ == "__main__":
    main()
