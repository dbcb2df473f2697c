print("hlsify")
